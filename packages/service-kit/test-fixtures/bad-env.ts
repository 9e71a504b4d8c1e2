// Loads an env with several required and typed variables; the test feeds it wrong values.
import { z } from 'zod';
import { defineEnv, envBool, loadEnv } from '../src/index.js';

const env = defineEnv({
  CHATWOOT_BASE_URL: z.string().url(),
  RATE_LIMIT_PER_MIN: z.coerce.number().int().positive(),
  STRICT_SIGNATURES: envBool(true),
});
const { base, config } = loadEnv(env, 'fixture');
process.stdout.write(`loaded ${base.service} ${JSON.stringify(config)}\n`);
