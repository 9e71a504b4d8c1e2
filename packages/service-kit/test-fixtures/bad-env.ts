// Loads an env with several required and typed variables and one rule across them; the tests feed it wrong values.
import { z } from 'zod';
import { defineEnv, envBool, loadEnv } from '../src/index.js';

const env = defineEnv(
  {
    CHATWOOT_BASE_URL: z.string().url(),
    RATE_LIMIT_PER_MIN: z.coerce.number().int().positive(),
    STRICT_SIGNATURES: envBool(true),
    WEBHOOK_SECRET: z.string().min(1).optional(),
  },
  undefined,
  (c, base) => (base.mode === 'production' && !c.WEBHOOK_SECRET ? ['WEBHOOK_SECRET: is required in production mode'] : []),
);
const { base, config } = loadEnv(env, 'fixture');
process.stdout.write(`loaded ${base.service} ${JSON.stringify(config)}\n`);
