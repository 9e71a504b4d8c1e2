/**
 * Secret values in log lines become `[redacted]` wherever their key sits in the first three levels of a
 * logged object or a child's bindings: top level (`token`), one deep (`headers.authorization`,
 * `config.apiKey`) and two deep (`req.headers.authorization`) — the depths where our code puts them.
 *
 * One walk over own keys that copies nothing unless it finds a secret, and then only the objects on the
 * way to it (a copy keeps its prototype, so an Error stays an Error for pino's `err` serializer). pino's
 * `redact` option did this with 45 wildcard paths through @pinojs/redact, which re-parses every path on
 * every call: a child logger cost ~10 µs and a line ~45 µs (30× without it), and the Fastify child of
 * each request was most of the gateway's garbage per webhook (docs/adr/0005-request-lines-for-failures.md).
 */
const SECRET_KEYS = new Set([
  'authorization',
  'Authorization',
  'cookie',
  'token',
  'accessToken',
  'refreshToken',
  'apiKey',
  'api_key',
  'password',
  'secret',
  'clientSecret',
  'api_access_token',
  'webhookSecret',
  'x-api-key',
  'x-chatwoot-signature',
]);

export const CENSOR = '[redacted]';
const DEPTH = 3;

/** `value` itself when it holds no secret within three levels, else a copy with each secret censored. */
export function redactSecrets<T>(value: T): T {
  return scrub(value, DEPTH) as T;
}

function scrub(value: unknown, depth: number): unknown {
  // Byte arrays are data, not records: walking a logged Buffer's indexes would cost its length.
  if (depth === 0 || typeof value !== 'object' || value === null || ArrayBuffer.isView(value)) return value;
  const record = value as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  for (const key in record) {
    if (!Object.hasOwn(record, key)) continue;
    const v = record[key];
    const next = SECRET_KEYS.has(key) && v !== undefined ? CENSOR : scrub(v, depth - 1);
    if (next === v) continue;
    copy ??= Array.isArray(record)
      ? (record.slice() as unknown as Record<string, unknown>)
      : (Object.create(Object.getPrototypeOf(record) as object | null, Object.getOwnPropertyDescriptors(record)) as Record<string, unknown>);
    Object.defineProperty(copy, key, { value: next, enumerable: true, writable: true, configurable: true });
  }
  return copy ?? value;
}
