/**
 * What the bus makes of a handler that threw something other than an ActionError. Most such
 * failures are a dependency that went away for a moment, worth retrying; a PostgreSQL data
 * exception is not: the data itself is refused, so every retry fails the same way.
 */
import { uuidv7 } from './ids.js';

/**
 * A PostgreSQL data exception (SQLSTATE class 22: 22021 invalid byte sequence, 22P05 untranslatable
 * character, 22001 value too long, …) anywhere down the cause chain (drizzle wraps the driver's error).
 */
export function isDataException(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; typeof e === 'object' && e !== null && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^22[0-9A-Z]{3}$/.test(code)) return true;
  }
  return false;
}

/** The reference of a failure whose detail stays in the logs: time-ordered, so it finds its log line fast. */
export function newErrorRef(): string {
  return uuidv7();
}
