import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { env } from './env.js';

const parse = (vars: Record<string, string>) => {
  const r = env.parse('agent-execution', vars);
  if (!r.ok) throw new Error(r.problems.join('; '));
  return r.config;
};

const problemsOf = (vars: Record<string, string>) => {
  const r = env.parse('agent-execution', vars);
  return r.ok ? [] : r.problems;
};

describe('agent-execution config', () => {
  it('dev mode runs without a model (the scripted dev model is started instead)', () => {
    expect(parse({}).model.baseURL).toBeNull();
  });

  it('production mode refuses to start without a model, naming every missing variable', () => {
    expect(problemsOf({ PARLEY_MODE: 'production' })).toEqual([
      'MODEL_BASE_URL: is required in production mode (e.g. https://api.openai.com/v1)',
      'MODEL_NAME: is required in production mode (e.g. gpt-4o-mini)',
    ]);
    const vars = { NODE_ENV: 'production', MODEL_BASE_URL: 'https://api.openai.com/v1', MODEL_NAME: 'gpt-4o-mini' };
    expect(problemsOf(vars)).toEqual(['MODEL_API_KEY: is required in production mode for https://api.openai.com/v1']);
    expect(parse({ ...vars, MODEL_API_KEY: 'sk-test' }).production).toBe(true);
  });

  it('lists bad values and the missing model in one run, without echoing values', () => {
    const problems = problemsOf({ PARLEY_MODE: 'production', MODEL_BASE_URL: 'ftp://secret@x', RUN_MAX_MS: '10' }).join('\n');
    expect(problems).toMatch(/MODEL_BASE_URL: expected a URL/);
    expect(problems).toMatch(/RUN_MAX_MS: /);
    expect(problems).toMatch(/MODEL_NAME: is required in production mode/);
    expect(problems).not.toContain('secret');
  });

  it('reads the secrets key shared with the gateway, and names a bad or lone previous key without echoing it', () => {
    const key = randomBytes(32).toString('base64');
    expect(parse({ SECRETS_KEY: key }).tools.secretsKey).toBeDefined();
    expect(parse({}).tools.secretsKey).toBeUndefined();
    const problems = problemsOf({ SECRETS_KEY: 'REPLACE_ME', OUTBOUND_ALLOW_CIDRS: 'nope' });
    expect(problems).toEqual([expect.stringMatching(/^SECRETS_KEY: expected 32 random bytes/), expect.stringMatching(/^OUTBOUND_ALLOW_CIDRS: /)]);
    expect(problems.join('\n')).not.toContain('REPLACE_ME');
    expect(problemsOf({ SECRETS_KEY_PREVIOUS: key })).toEqual([expect.stringMatching(/^SECRETS_KEY_PREVIOUS: only decrypts during a rotation/)]);
  });
});
