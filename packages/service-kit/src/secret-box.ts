/**
 * Secrets at rest: AES-256-GCM under the operator's key, one random 12-byte IV per value, stored as
 * `enc:v1:<keyId>:<base64url(iv | tag | ciphertext)>`. The key id is a fingerprint of the key, so a
 * stored value says which key opens it: the current key seals, a previous one still opens (rotation).
 * The caller's `context` (which row, which column) is bound as associated data, so a value copied
 * into another row or column does not open there.
 *
 * Shared by every service that keeps a secret: the gateway (Chatwoot inbox secrets) and agent-execution
 * (header values of an agent's MCP servers and HTTP tools). Both read the same SECRETS_KEY.
 */
import { createCipheriv, createDecipheriv, createHash, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { z } from 'zod';

const PREFIX = 'enc:';
const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

/** How a key is written in the environment; said in every message about a bad one. */
export const SECRET_KEY_FORM = '32 random bytes as 64 hex characters or as base64 (e.g. `openssl rand -base64 32`)';

export type SecretBoxFailure = 'malformed' | 'unsupported' | 'no_key' | 'unknown_key' | 'tampered';

/** Messages name keys by id and never carry the stored value, so they are safe to log and to answer. */
export class SecretBoxError extends Error {
  constructor(
    readonly reason: SecretBoxFailure,
    message: string,
  ) {
    super(message);
    this.name = 'SecretBoxError';
  }
}

/** A key from its env form, or the problem with it (the value itself is never repeated). */
export function parseSecretKey(raw: string): KeyObject | string {
  const s = raw.trim();
  let bytes: Buffer | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(s)) bytes = Buffer.from(s, 'hex');
  // 32 bytes are 43 base64 characters and one '=' (optional; base64url has none).
  else if (/^[A-Za-z0-9+/_-]{43}=?$/.test(s)) bytes = Buffer.from(s, 'base64');
  if (bytes?.length !== KEY_BYTES) return `expected ${SECRET_KEY_FORM}`;
  // 32 random bytes have ~30 distinct values; fewer than 16 is a typed pattern ("0000…", "abab…"), not a key.
  if (new Set(bytes).size < 16) return `does not look random; use ${SECRET_KEY_FORM}`;
  return createSecretKey(bytes);
}

/** An env variable holding a key: a KeyObject, not a Buffer, so printing the config (or a crash dump of it) shows no key bytes. */
export const secretKeyEnv = () =>
  z.string().transform((raw, ctx) => {
    const key = parseSecretKey(raw);
    if (typeof key !== 'string') return key;
    ctx.addIssue({ code: 'custom', message: key });
    return z.NEVER;
  });

/** 8 hex characters of a domain-separated SHA-256 of the key: tells keys apart, reveals nothing usable. */
export function keyIdOf(key: KeyObject): string {
  return createHash('sha256').update('parley secret-box key id\0').update(key.export()).digest('hex').slice(0, 8);
}

/** Whether a stored value is in this envelope at all (anything else is taken as plain text). */
export function isSealed(stored: string): boolean {
  return stored.startsWith(PREFIX);
}

/** The key id a sealed value names, or null when it is not a well-formed envelope. */
export function sealedKeyId(stored: string): string | null {
  const parts = stored.split(':');
  return parts.length === 4 && parts[0] === 'enc' && /^[0-9a-f]{8}$/.test(parts[2]!) ? parts[2]! : null;
}

export class SecretBox {
  /** Id of the key that seals. */
  readonly keyId: string;
  private readonly previousId: string | undefined;
  private readonly keys = new Map<string, KeyObject>();

  constructor(
    private readonly current: KeyObject,
    previous?: KeyObject,
  ) {
    this.keyId = keyIdOf(current);
    this.previousId = previous ? keyIdOf(previous) : undefined;
    if (previous) this.keys.set(keyIdOf(previous), previous);
    this.keys.set(this.keyId, current);
  }

  seal(plain: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return `${PREFIX}${VERSION}:${this.keyId}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')}`;
  }

  /** The plain value; throws SecretBoxError when it is malformed, under an unknown key, or altered. */
  open(stored: string, context: string): string {
    const parts = stored.split(':');
    if (parts.length < 2 || `${parts[0]}:` !== PREFIX) throw new SecretBoxError('malformed', 'the stored value is not an encrypted secret');
    // The version is not echoed: a plain-text secret that happens to start with `enc:` must not reach a log.
    if (parts[1] !== VERSION)
      throw new SecretBoxError('unsupported', `the stored secret is in a format this service does not read (it reads enc:${VERSION}); run a newer version`);
    const [, , keyId, payload] = parts;
    if (parts.length !== 4 || !keyId || !/^[0-9a-f]{8}$/.test(keyId) || !payload || !/^[A-Za-z0-9_-]+$/.test(payload)) {
      throw new SecretBoxError('malformed', 'the stored secret is malformed (expected enc:v1:<keyId>:<base64url>)');
    }
    const key = this.keys.get(keyId);
    if (!key) {
      const known = this.previousId
        ? `the current key is ${this.keyId} and the previous ${this.previousId}`
        : `the current key is ${this.keyId} and no previous key is set`;
      throw new SecretBoxError('unknown_key', `the stored secret was encrypted with key ${keyId}, but ${known}`);
    }
    const bytes = Buffer.from(payload, 'base64url');
    if (bytes.length < IV_BYTES + TAG_BYTES) throw new SecretBoxError('malformed', 'the stored secret is truncated');
    const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretBoxError('tampered', `the stored secret (key ${keyId}) failed authentication: it was altered or truncated, or belongs to another row`);
    }
  }

  /** Plain text, or sealed under a key other than the current one: the next write should seal it again. */
  isStale(stored: string): boolean {
    return sealedKeyId(stored) !== this.keyId;
  }
}
