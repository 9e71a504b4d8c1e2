import { z } from 'zod';

/**
 * JSON Schema 2020-12 (OpenAPI 3.1's dialect) of a zod schema: 'input' for what a route parses (defaults
 * optional, coerced query strings), 'output' for what it answers (defaults filled in, so present).
 */
export function jsonSchemaOf(s: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const out = z.toJSONSchema(s, { io, target: 'draft-2020-12', unrepresentable: 'any' }) as Record<string, unknown>;
  delete out.$schema;
  return out;
}
