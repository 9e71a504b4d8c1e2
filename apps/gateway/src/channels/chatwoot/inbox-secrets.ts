/**
 * The secret columns of `chatwoot_inboxes` as they are stored: sealed with the gateway's SecretBox
 * when SECRETS_KEY is set, plain text without one (dev mode) and in rows written before encryption.
 */
import { type SecretBox, SecretBoxError, isSealed, sealedKeyId } from '@parley/service-kit';

export interface InboxSecrets {
  apiToken: string;
  webhookSecret: string | null;
  inboxToken: string | null;
}
export type SecretField = keyof InboxSecrets;

const COLUMNS: Record<SecretField, string> = { apiToken: 'api_token', webhookSecret: 'webhook_secret', inboxToken: 'inbox_token' };
const FIELDS = Object.keys(COLUMNS) as SecretField[];

interface Where {
  accountId: number;
  inboxId: number;
}

/** One secret of one inbox that cannot be read; the message names the field and keys, never a value. */
export class UnreadableSecret extends Error {
  constructor(
    readonly field: SecretField,
    readonly failure: SecretBoxError,
  ) {
    super(`${field}: ${failure.message}`);
    this.name = 'UnreadableSecret';
  }
}

export class InboxSecretCodec {
  constructor(readonly box: SecretBox | null) {}

  open<T extends string | null>(w: Where, field: SecretField, stored: T): T {
    if (stored === null || !isSealed(stored)) return stored;
    if (!this.box)
      throw new UnreadableSecret(
        field,
        new SecretBoxError('no_key', `the stored secret was encrypted with key ${sealedKeyId(stored) ?? '?'}, but SECRETS_KEY is not set`),
      );
    try {
      return this.box.open(stored, context(w, field)) as T;
    } catch (err) {
      if (err instanceof SecretBoxError) throw new UnreadableSecret(field, err);
      throw err;
    }
  }

  /** Every secret of a row in clear; throws UnreadableSecret for the first one that cannot be read. */
  openAll(w: Where, row: InboxSecrets): InboxSecrets {
    return {
      apiToken: this.open(w, 'apiToken', row.apiToken),
      webhookSecret: this.open(w, 'webhookSecret', row.webhookSecret),
      inboxToken: this.open(w, 'inboxToken', row.inboxToken),
    };
  }

  sealAll(w: Where, s: InboxSecrets): InboxSecrets {
    const seal = <T extends string | null>(field: SecretField, v: T): T => (v === null || !this.box ? v : (this.box.seal(v, context(w, field)) as T));
    return { apiToken: seal('apiToken', s.apiToken), webhookSecret: seal('webhookSecret', s.webhookSecret), inboxToken: seal('inboxToken', s.inboxToken) };
  }

  /** With a key set: some secret of the row is plain text or sealed under the previous key. */
  isStale(row: InboxSecrets): boolean {
    const box = this.box;
    return box !== null && FIELDS.some((f) => row[f] !== null && box.isStale(row[f]));
  }
}

// Bound as associated data: a value copied into another inbox's row or another column does not open.
const context = (w: Where, field: SecretField) => `chatwoot_inboxes/${w.accountId}/${w.inboxId}/${COLUMNS[field]}`;
