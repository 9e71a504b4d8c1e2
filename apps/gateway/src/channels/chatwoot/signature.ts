/**
 * Who may post to /webhooks/chatwoot. Signed deliveries (newer Chatwoot):
 * `X-Chatwoot-Signature: sha256=<hex HMAC-SHA256(secret, "<X-Chatwoot-Timestamp>.<raw body>")>`,
 * checked on the raw bytes (re-serialised JSON would not match) and in constant time. Installs that
 * do not sign use a per-inbox token in the URL instead. Anything else is refused.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { InboxSettings } from './config.js';

export interface Credentials {
  signature: string | undefined;
  timestamp: string | undefined;
  urlToken: string | undefined;
}

export type Verdict = { ok: true; via: 'signature' | 'token' } | { ok: false; why: string };

export function verifyDelivery(inbox: InboxSettings, raw: Buffer, c: Credentials, maxSkewS: number, nowMs = Date.now()): Verdict {
  if (inbox.webhookSecret && c.signature !== undefined) {
    const ts = Number(c.timestamp);
    if (!c.timestamp || !Number.isInteger(ts)) return { ok: false, why: 'X-Chatwoot-Timestamp is missing or not unix seconds' };
    if (Math.abs(nowMs / 1000 - ts) > maxSkewS) return { ok: false, why: 'X-Chatwoot-Timestamp is too old (or in the future)' };
    const given = /^sha256=([0-9a-f]{64})$/i.exec(c.signature.trim())?.[1];
    if (!given) return { ok: false, why: 'X-Chatwoot-Signature is not sha256=<hex>' };
    const expected = createHmac('sha256', inbox.webhookSecret).update(`${c.timestamp}.`).update(raw).digest();
    return timingSafeEqual(expected, Buffer.from(given, 'hex')) ? { ok: true, via: 'signature' } : { ok: false, why: 'X-Chatwoot-Signature does not match' };
  }
  if (inbox.inboxToken && c.urlToken !== undefined) {
    // Hashing both sides gives equal lengths, which timingSafeEqual needs, without leaking the length.
    const a = createHash('sha256').update(c.urlToken).digest();
    const b = createHash('sha256').update(inbox.inboxToken).digest();
    return timingSafeEqual(a, b) ? { ok: true, via: 'token' } : { ok: false, why: 'the URL token does not match' };
  }
  return { ok: false, why: inbox.webhookSecret ? 'the delivery is not signed' : 'the URL carries no token' };
}
