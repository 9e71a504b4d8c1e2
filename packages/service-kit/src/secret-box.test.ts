import { randomBytes } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { SecretBox, SecretBoxError, isSealed, keyIdOf, parseSecretKey, sealedKeyId } from './secret-box.js';

const newKey = () => {
  const k = parseSecretKey(randomBytes(32).toString('base64'));
  if (typeof k === 'string') throw new Error(k);
  return k;
};
const CTX = 'chatwoot_inboxes/7/3/api_token';
const SECRET = 'cw-api-token-0123456789';

/** The SecretBoxError `fn` throws (fails the test when it throws nothing or something else). */
function failure(fn: () => unknown): SecretBoxError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SecretBoxError);
    return err as SecretBoxError;
  }
  throw new Error('expected a SecretBoxError');
}

describe('parseSecretKey', () => {
  test('64 hex characters, base64 and base64url of 32 bytes are keys', () => {
    const bytes = randomBytes(32);
    const ids = [
      bytes.toString('hex'),
      bytes.toString('hex').toUpperCase(),
      bytes.toString('base64'),
      bytes.toString('base64').replace(/=$/, ''),
      bytes.toString('base64url'),
      ` ${bytes.toString('base64')}\n`,
    ].map((raw) => {
      const k = parseSecretKey(raw);
      if (typeof k === 'string') throw new Error(`${raw}: ${k}`);
      return keyIdOf(k);
    });
    expect(new Set(ids).size).toBe(1);
  });

  test('anything else says the expected form, without repeating the value', () => {
    for (const raw of [
      'REPLACE_ME',
      'change-me-to-at-least-32-characters',
      randomBytes(16).toString('hex'),
      randomBytes(31).toString('base64'),
      randomBytes(33).toString('base64'),
      `${randomBytes(32).toString('hex')}00`,
    ]) {
      const problem = parseSecretKey(raw);
      expect(typeof problem, raw).toBe('string');
      expect(problem).toContain('32 random bytes as 64 hex characters or as base64');
      expect(problem).not.toContain(raw);
    }
    expect(parseSecretKey('0'.repeat(64))).toMatch(/does not look random/);
    expect(parseSecretKey('ab'.repeat(32))).toMatch(/does not look random/);
  });
});

describe('SecretBox', () => {
  test('round trip; the stored form names its key and holds no plain text', () => {
    const box = new SecretBox(newKey());
    const sealed = box.seal(SECRET, CTX);
    expect(sealed).toMatch(/^enc:v1:[0-9a-f]{8}:[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain(SECRET);
    expect(isSealed(sealed)).toBe(true);
    expect(sealedKeyId(sealed)).toBe(box.keyId);
    expect(box.open(sealed, CTX)).toBe(SECRET);
    expect(box.open(box.seal('', CTX), CTX)).toBe('');
    expect(box.open(box.seal('ñandú ✓', CTX), CTX)).toBe('ñandú ✓');
  });

  test('two encryptions of one value differ (random IV)', () => {
    const box = new SecretBox(newKey());
    const a = box.seal(SECRET, CTX);
    const b = box.seal(SECRET, CTX);
    expect(a).not.toBe(b);
    expect(box.open(a, CTX)).toBe(box.open(b, CTX));
  });

  test('tampered ciphertext fails authentication', () => {
    const box = new SecretBox(newKey());
    const sealed = box.seal(SECRET, CTX);
    const bytes = Buffer.from(sealed.split(':')[3]!, 'base64url');
    bytes[bytes.length - 1]! ^= 1;
    const e = failure(() => box.open(`enc:v1:${box.keyId}:${bytes.toString('base64url')}`, CTX));
    expect(e.reason).toBe('tampered');
    expect(e.message).toMatch(/failed authentication: it was altered or truncated/);
  });

  test('a value moved to another row or column does not open there', () => {
    const box = new SecretBox(newKey());
    expect(failure(() => box.open(box.seal(SECRET, CTX), 'chatwoot_inboxes/7/3/webhook_secret')).reason).toBe('tampered');
  });

  test('wrong key: names the key the value needs and the ones configured', () => {
    const sealed = new SecretBox(newKey()).seal(SECRET, CTX);
    const other = new SecretBox(newKey());
    const e = failure(() => other.open(sealed, CTX));
    expect(e.reason).toBe('unknown_key');
    expect(e.message).toContain(`encrypted with key ${sealedKeyId(sealed)}`);
    expect(e.message).toContain(`the current key is ${other.keyId}`);
    expect(e.message).not.toContain(sealed);
  });

  test('truncated values fail, whether cut inside the ciphertext or before the tag ends', () => {
    const box = new SecretBox(newKey());
    const sealed = box.seal(SECRET, CTX);
    expect(failure(() => box.open(sealed.slice(0, -4), CTX)).reason).toBe('tampered');
    expect(failure(() => box.open(sealed.slice(0, `enc:v1:${box.keyId}:`.length + 20), CTX))).toMatchObject({
      reason: 'malformed',
      message: 'the stored secret is truncated',
    });
    expect(failure(() => box.open(`enc:v1:${box.keyId}`, CTX)).reason).toBe('malformed');
    expect(failure(() => box.open(`enc:v1:${box.keyId}:`, CTX)).reason).toBe('malformed');
  });

  test('an unknown format version or a broken envelope is refused, without echoing it', () => {
    const box = new SecretBox(newKey());
    const e = failure(() => box.open('enc:v9:abcd:efgh', CTX));
    expect(e.reason).toBe('unsupported');
    expect(e.message).not.toContain('v9');
    expect(failure(() => box.open(`enc:v1:${box.keyId}:not base64!`, CTX)).reason).toBe('malformed');
    expect(failure(() => box.open('plain-token', CTX)).reason).toBe('malformed');
  });

  test('rotation: the previous key still opens, only the current one seals', () => {
    const oldKey = newKey();
    const before = new SecretBox(oldKey).seal(SECRET, CTX);
    const rotated = new SecretBox(newKey(), oldKey);
    expect(rotated.open(before, CTX)).toBe(SECRET);
    expect(rotated.isStale(before)).toBe(true);
    const after = rotated.seal(SECRET, CTX);
    expect(sealedKeyId(after)).toBe(rotated.keyId);
    expect(rotated.isStale(after)).toBe(false);
    expect(rotated.isStale('plain-token')).toBe(true);
    // Once the old key is dropped, what it sealed no longer opens.
    expect(failure(() => new SecretBox(newKey()).open(before, CTX)).reason).toBe('unknown_key');
  });
});
