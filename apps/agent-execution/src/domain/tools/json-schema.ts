import { Ajv, type ValidateFunction } from 'ajv';

/**
 * JSON schemas an operator writes for HTTP tools: checked as schemas when the agent is saved, and used to
 * check the model's arguments before a call leaves. ajv is the reference validator (the MCP SDK uses it too);
 * `strict: false` accepts the annotations real schemas carry (`examples`, vendor keys).
 */
const newAjv = () => new Ajv({ strict: false, allErrors: false, validateSchema: true });
let ajv = newAjv();
const compiled = new Map<string, ValidateFunction>();

/** Why this is not a usable tool schema (an object schema ajv compiles), or null. */
export function schemaProblem(schema: Record<string, unknown>): string | null {
  if (schema['type'] !== 'object') return 'must be a JSON schema with "type": "object" (a tool takes named arguments)';
  if (!ajv.validateSchema(schema)) return `is not a valid JSON schema: ${ajv.errorsText(ajv.errors, { dataVar: 'schema' })}`;
  try {
    validatorOf(schema);
    return null;
  } catch (err) {
    return `cannot be compiled: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/** Why these arguments do not match the schema, or null. */
export function argumentsProblem(schema: Record<string, unknown>, args: unknown): string | null {
  const validate = validatorOf(schema);
  return validate(args) ? null : ajv.errorsText(validate.errors, { dataVar: 'arguments' });
}

function validatorOf(schema: Record<string, unknown>): ValidateFunction {
  // Without `$id`: ajv registers a schema under its id and refuses a second, different one with the same id.
  const { $id: _id, ...anonymous } = schema;
  const key = JSON.stringify(anonymous);
  let fn = compiled.get(key);
  if (!fn) {
    // Bounded: schemas come from agents' specs, a handful per tenant. ajv keeps every compiled schema too, so
    // both are dropped together.
    if (compiled.size > 500) {
      compiled.clear();
      ajv = newAjv();
    }
    fn = ajv.compile(anonymous);
    compiled.set(key, fn);
  }
  return fn;
}
