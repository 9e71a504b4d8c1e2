import { createHmac } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import type { InboxSettings } from './config.js';
import { verifyDelivery } from './signature.js';

const inbox = (o: Partial<InboxSettings>): InboxSettings => ({
  accountId: 1,
  inboxId: 1,
  tenantId: 't',
  agentId: null,
  baseUrl: 'https://x',
  apiToken: 'tok',
  webhookSecret: null,
  inboxToken: null,
  answerStatuses: ['pending'],
  handoffNote: 'n',
  enabled: true,
  source: 'env',
  ...o,
});
const raw = Buffer.from('{"event":"message_created","id":1}');
const now = 1_700_000_000_000;
const ts = String(now / 1000);
const sig = (secret: string, t = ts, body: Buffer = raw) => `sha256=${createHmac('sha256', secret).update(`${t}.`).update(body).digest('hex')}`;

describe('verifyDelivery', () => {
  const signed = inbox({ webhookSecret: 's'.repeat(20) });
  test('a signature over "<timestamp>.<raw body>" passes', () => {
    expect(verifyDelivery(signed, raw, { signature: sig('s'.repeat(20)), timestamp: ts, urlToken: undefined }, 300, now)).toEqual({
      ok: true,
      via: 'signature',
    });
  });
  test('wrong secret, malformed header, stale or future timestamp, changed body: refused', () => {
    const c = (signature: string, timestamp = ts, body = raw) => verifyDelivery(signed, body, { signature, timestamp, urlToken: undefined }, 300, now).ok;
    expect(c(sig('t'.repeat(20)))).toBe(false);
    expect(c('md5=abc')).toBe(false);
    expect(c(sig('s'.repeat(20), String(now / 1000 - 301)), String(now / 1000 - 301))).toBe(false);
    expect(c(sig('s'.repeat(20), String(now / 1000 + 301)), String(now / 1000 + 301))).toBe(false);
    expect(c(sig('s'.repeat(20)), ts, Buffer.from('{"event":"message_created","id":2}'))).toBe(false);
    expect(verifyDelivery(signed, raw, { signature: undefined, timestamp: undefined, urlToken: undefined }, 300, now).ok).toBe(false);
  });
  test('URL token only where one is configured', () => {
    const t = inbox({ inboxToken: 'k'.repeat(30) });
    expect(verifyDelivery(t, raw, { signature: undefined, timestamp: undefined, urlToken: 'k'.repeat(30) }, 300, now).ok).toBe(true);
    expect(verifyDelivery(t, raw, { signature: undefined, timestamp: undefined, urlToken: 'k'.repeat(29) }, 300, now).ok).toBe(false);
    expect(verifyDelivery(signed, raw, { signature: undefined, timestamp: undefined, urlToken: 'k'.repeat(30) }, 300, now).ok).toBe(false);
    expect(verifyDelivery(inbox({}), raw, { signature: undefined, timestamp: undefined, urlToken: '' }, 300, now).ok).toBe(false);
  });
});
