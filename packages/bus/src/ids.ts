import { randomBytes } from 'node:crypto';

// Pre-fetched randomness: one syscall per 4 KiB instead of one per id, since ids are minted on the hot path.
let pool = randomBytes(4096);
let offset = 0;
function random(n: number): Buffer {
  if (offset + n > pool.length) {
    pool = randomBytes(4096);
    offset = 0;
  }
  const out = pool.subarray(offset, offset + n);
  offset += n;
  return out;
}

const hex: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** UUIDv7 (RFC 9562): time-ordered, so action ids sort by creation and index well. */
export function uuidv7(): string {
  const b = Buffer.from(random(16));
  const ms = Date.now();
  b.writeUIntBE(ms, 0, 6);
  b[6] = 0x70 | (b[6]! & 0x0f);
  b[8] = 0x80 | (b[8]! & 0x3f);
  let s = '';
  for (let i = 0; i < 16; i++) {
    s += hex[b[i]!];
    if (i === 3 || i === 5 || i === 7 || i === 9) s += '-';
  }
  return s;
}

/** W3C trace id: 32 lowercase hex characters, not all zero. */
export function newTraceId(): string {
  return random(16).toString('hex');
}
