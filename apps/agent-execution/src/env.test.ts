import { describe, expect, it } from 'vitest';
import { modelProblems } from '@parley/service-kit';
import { env, type AgentExecutionConfig } from './env.js';

const problems = (c: AgentExecutionConfig) => modelProblems(c.model, c.production);

const parse = (vars: Record<string, string>) => {
  const r = env.parse('agent-execution', vars);
  if (!r.ok) throw new Error(r.problems.join('; '));
  return r.config;
};

describe('agent-execution config', () => {
  it('dev mode runs without a model (the scripted dev model is started instead)', () => {
    const config = parse({});
    expect(config.model.baseURL).toBeNull();
    expect(problems(config)).toEqual([]);
  });

  it('production mode refuses to start without a model, naming every missing variable', () => {
    const config = parse({ PARLEY_MODE: 'production' });
    expect(problems(config)).toEqual([
      'MODEL_BASE_URL: is required in production mode (e.g. https://api.openai.com/v1)',
      'MODEL_NAME: is required in production mode (e.g. gpt-4o-mini)',
    ]);
    const vars = { NODE_ENV: 'production', MODEL_BASE_URL: 'https://api.openai.com/v1', MODEL_NAME: 'gpt-4o-mini' };
    expect(problems(parse(vars))).toEqual(['MODEL_API_KEY: is required in production mode for https://api.openai.com/v1']);
    const full = { ...vars, MODEL_API_KEY: 'sk-test' };
    expect(problems(parse(full))).toEqual([]);
  });

  it('lists bad values without echoing them', () => {
    const r = env.parse('agent-execution', { MODEL_BASE_URL: 'ftp://secret@x', RUN_MAX_MS: '10' });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.problems.join('\n')).toMatch(/MODEL_BASE_URL: expected a URL/);
      expect(r.problems.join('\n')).toMatch(/RUN_MAX_MS: /);
      expect(r.problems.join('\n')).not.toContain('secret');
    }
  });
});
