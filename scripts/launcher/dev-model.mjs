// Starts packages/llm's scripted model server when no real model is configured, and says so loudly.
import { join } from 'node:path';
import { readPackage, scriptCommand } from './apps.mjs';
import { startChild } from './children.mjs';
import { c } from './pretty.mjs';
import { canConnect, freePort, sleep } from './ports.mjs';

export async function maybeStartDevModel(root, env, say) {
  // Production must fail loudly without a model, not quietly run on scripted answers.
  if (env.MODEL_BASE_URL || env.OPENAI_API_KEY || env.PARLEY_MODE === 'production') return null;
  const dir = join(root, 'packages', 'llm');
  const script = readPackage(dir)?.scripts?.['dev-model'];
  if (!script) return null;
  const port = await freePort();
  const proc = startChild({
    label: 'dev-model',
    color: c.gray,
    width: 0,
    command: scriptCommand(root, dir, script),
    env: { ...env, DEV_MODEL_PORT: String(port), DEV_MODEL_HOST: '127.0.0.1' },
  });
  for (let i = 0; i < 100 && proc.running() && !(await canConnect('127.0.0.1', port, 200)); i++) await sleep(100);
  if (!proc.running()) {
    say('the dev model server did not start (see above); set MODEL_BASE_URL to use a real model');
    return null;
  }
  const bar = c.yellow('!'.repeat(78));
  console.log(
    [
      bar,
      c.yellow(c.bold('!!  NO MODEL CONFIGURED: using the offline DEV MODEL SERVER.')),
      c.yellow('!!  Agent answers are SCRIPTED and deterministic, not written by a language model.'),
      c.yellow('!!  For real answers set MODEL_BASE_URL (+ MODEL_API_KEY) or OPENAI_API_KEY.'),
      bar,
    ].join('\n'),
  );
  return { proc, baseUrl: `http://127.0.0.1:${port}/v1` };
}
