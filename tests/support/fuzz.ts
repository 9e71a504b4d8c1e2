/**
 * Shared pieces of the property-based fuzz tests: hostile strings and JSON values (fast-check
 * arbitraries), what "internal detail" looks like in an answer, and the bus checks (no dead letter,
 * nothing left pending).
 */
import fc from 'fast-check';
import { busKeys } from '@parley/contracts';
import { newRedis, waitFor } from '@parley/testing';

/** Characters that broke or could break a layer: PostgreSQL (U+0000), UTF-8 (lone surrogates), JSON, keys, SQL. */
const SPECIAL = [
  '\u0000',
  '\uD800',
  '\uDBFF',
  '\uDC00',
  '\uDFFF',
  '\u0001',
  '\u0008',
  '\u001b',
  '\u007f',
  '\u0085',
  '\u2028',
  '\uFEFF',
  '\uFFFF',
  '"',
  '\\',
  '{',
  '}',
  ':',
  '%',
  '$1',
  "'",
  ' ',
  '\n',
  'é',
  '😀',
];
const char = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.constantFrom(...SPECIAL) },
);

/** Short strings full of control characters, NULs and surrogates; now and then a huge one. */
export const nastyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 12, arbitrary: fc.string({ unit: char, maxLength: 40 }) },
  { weight: 1, arbitrary: fc.constantFrom('x'.repeat(20_000), `${'y'.repeat(60_000)}\u0000`, `\uD800${'z'.repeat(9_000)}`) },
);

/** `[[[…"x"…]]]`, `depth` levels deep. */
export function nested(depth: number): unknown {
  let v: unknown = 'x';
  for (let i = 0; i < depth; i++) v = i % 2 ? { k: v } : [v];
  return v;
}

/** Any JSON value of the wrong type, shape or content: strings above, numbers, nulls, small trees, very deep trees. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.letrec((tie) => ({
      v: fc.oneof(
        { depthSize: 'small' },
        nastyString,
        fc.integer(),
        fc.double(),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie('v'), { maxLength: 4 }),
        fc.dictionary(nastyString, tie('v'), { maxKeys: 4 }),
      ),
    })).v,
  },
  { weight: 1, arbitrary: fc.integer({ min: 65, max: 3_000 }).map(nested) },
);

/** What must never reach a client: SQL, driver parameters, stack frames, connection strings. */
const INTERNAL_DETAIL = [
  /insert into/i,
  /select .* from/i,
  /\$1\b/,
  /\bparams:/i,
  /Failed query/i,
  /\n\s+at .*:\d+:\d+/,
  /(postgres(ql)?|rediss?):\/\//i,
  /SQLSTATE/i,
];

/** The markers of internal detail in `answer` that the request itself did not contain (an echoed id may). */
export function internalDetail(answer: string, sent: string): string[] {
  return INTERNAL_DETAIL.filter((m) => m.test(answer) && !m.test(sent)).map(String);
}

const SERVICES = ['conversation', 'agent', 'query', 'migration', 'gateway'];

/** Dead letters of every service under the prefix, once nothing is pending (retries would still be running). */
export async function deadLettersWhenSettled(prefix: string): Promise<Array<{ service: string; code: string; type: string }>> {
  const r = newRedis();
  try {
    await waitFor(
      async () => {
        for (const s of SERVICES) {
          const pending = (await r.xpending(busKeys.stream(prefix, s), s).catch(() => [0])) as [number];
          if (pending[0] > 0) return false;
        }
        return true;
      },
      { timeoutMs: 45_000, what: 'every action acknowledged' },
    );
    const out: Array<{ service: string; code: string; type: string }> = [];
    for (const s of SERVICES) {
      for (const [, f] of await r.xrange(busKeys.deadLetters(prefix, s), '-', '+'))
        out.push({ service: s, code: f[f.indexOf('code') + 1] ?? '', type: f[f.indexOf('type') + 1] ?? '' });
    }
    return out;
  } finally {
    r.disconnect();
  }
}
