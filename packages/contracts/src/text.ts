import { type z } from 'zod';

/**
 * Text the platform can store and pass on. PostgreSQL's text and jsonb refuse U+0000, and a lone
 * UTF-16 surrogate is not a character at all (it cannot be encoded as UTF-8). Both are refused at
 * the edge with the field named, so no store ever sees them.
 */
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function isStorableText(s: string): boolean {
  return !UNSTORABLE.test(s);
}

export const UNSTORABLE_TEXT_MESSAGE = 'contains a character that cannot be stored (U+0000 or an unpaired surrogate)';

/** A string schema that refuses unstorable text: `StorableText.max(n)` is not available, so build with `storable(z.string().max(n))`. */
export function storable<S extends z.ZodType<string>>(schema: S) {
  return schema.refine(isStorableText, { message: UNSTORABLE_TEXT_MESSAGE });
}

/**
 * Deepest nesting a free-form JSON value may have. Walking, storing and serialising a value are
 * recursive (here, in jsonb, in JSON.stringify): a megabyte of `[[[[…]]]]` must be refused, not
 * overflow a stack.
 */
export const MAX_JSON_DEPTH = 64;

/** Iterative, so the check itself cannot overflow. */
function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}

/**
 * Refuses unstorable text anywhere inside a free-form JSON value (keys included), naming its path
 * (`input.text`, `metadata.note`): for fields whose shape no schema fixes, like a run's `input`.
 */
export function storableJson<S extends z.ZodType>(schema: S): S {
  return schema.superRefine((value, ctx) => {
    if (nestedDeeperThan(value, MAX_JSON_DEPTH)) {
      ctx.addIssue({ code: 'custom', message: `is nested more than ${MAX_JSON_DEPTH} levels deep` });
      return;
    }
    const path = findUnstorableText(value);
    // The offending key itself may be in the path: it is named with U+FFFD in place of what cannot be stored.
    if (path) ctx.addIssue({ code: 'custom', message: UNSTORABLE_TEXT_MESSAGE, path: path.map((p) => (typeof p === 'string' ? printable(p) : p)) });
  }) as S;
}

function printable(s: string): string {
  return s.replace(new RegExp(UNSTORABLE.source, 'g'), '\uFFFD');
}

/**
 * The path of the first unstorable string anywhere inside a JSON value (keys included), or null.
 * For free-form payloads (`input` of a REST run) whose shape no schema fixes.
 */
export function findUnstorableText(value: unknown, path: Array<string | number> = []): Array<string | number> | null {
  if (typeof value === 'string') return isStorableText(value) ? null : path;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const hit = findUnstorableText(value[i], [...path, i]);
      if (hit) return hit;
    }
    return null;
  }
  if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      if (!isStorableText(k)) return [...path, k];
      const hit = findUnstorableText(v, [...path, k]);
      if (hit) return hit;
    }
  }
  return null;
}
