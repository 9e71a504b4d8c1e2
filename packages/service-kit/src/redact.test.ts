import { describe, expect, test } from 'vitest';
import { CENSOR, redactSecrets } from './redact.js';

describe('redactSecrets', () => {
  test('an object without secrets is returned as it is, not copied', () => {
    const line = { method: 'POST', route: '/webhooks/chatwoot', status: 200, nested: { a: { b: { token: 'deeper than three levels' } } } };
    expect(redactSecrets(line)).toBe(line);
  });

  test('censors secrets in the first three levels and copies only the path to them', () => {
    const keep = { id: 1 };
    const line = { token: 't', keep, req: { headers: { authorization: 'Bearer x', 'x-chatwoot-signature': 's', host: 'h' } }, list: [{ apiKey: 'k' }] };
    const out = redactSecrets(line);
    expect(out).toEqual({
      token: CENSOR,
      keep,
      req: { headers: { authorization: CENSOR, 'x-chatwoot-signature': CENSOR, host: 'h' } },
      list: [{ apiKey: CENSOR }],
    });
    expect(out.keep).toBe(keep);
    expect(Array.isArray(out.list)).toBe(true);
    // The caller's object is left alone.
    expect(line.token).toBe('t');
    expect(line.req.headers.authorization).toBe('Bearer x');
  });

  test('an Error holding a secret stays an Error, with its message and stack', () => {
    const err = Object.assign(new Error('request failed'), { config: { apiKey: 'k' } });
    const out = redactSecrets({ err });
    expect(out.err).toBeInstanceOf(Error);
    expect(out.err.message).toBe('request failed');
    expect(out.err.stack).toBe(err.stack);
    expect(out.err.config.apiKey).toBe(CENSOR);
    expect(err.config.apiKey).toBe('k');
  });

  test('byte arrays, absent values and primitives pass untouched', () => {
    const bytes = Buffer.from('token');
    expect(redactSecrets({ bytes }).bytes).toBe(bytes);
    const absent = { token: undefined };
    expect(redactSecrets(absent)).toBe(absent);
    expect(redactSecrets('token')).toBe('token');
    expect(redactSecrets(null)).toBe(null);
  });
});
