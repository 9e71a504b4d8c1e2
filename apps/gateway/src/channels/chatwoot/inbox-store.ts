/**
 * Inbox settings: rows of `chatwoot_inboxes` held in memory (the webhook path must answer within
 * milliseconds, so it never waits on PostgreSQL), refreshed every few seconds so a PUT on one
 * replica reaches the others, with the env default inbox behind them. Secrets are sealed in the
 * table (see inbox-secrets.ts) and plain only in memory.
 */
import { chatwootInboxes, tenants, type Database, type Db } from '@parley/db';
import type { ChatwootInboxInput, ChatwootInboxView } from '@parley/contracts';
import { ActionError } from '@parley/contracts';
import type { OutboundGuard } from '@parley/service-kit';
import type { Logger } from 'pino';
import { DEFAULT_HANDOFF_NOTE, inboxProblems, type InboxSettings } from './config.js';
import { UnreadableSecret, type InboxSecretCodec, type InboxSecrets, type SecretField } from './inbox-secrets.js';

const key = (accountId: number, inboxId: number) => `${accountId}/${inboxId}`;
type Row = typeof chatwootInboxes.$inferSelect;

export class InboxStore {
  private rows = new Map<string, InboxSettings>();
  /** Stored inboxes whose secrets cannot be decrypted: never answered (not even by the env default), listed for re-entry. */
  private unreadable = new Map<string, ChatwootInboxView>();
  /** The failure last logged per inbox, so an unreadable inbox is logged once, not at every refresh. */
  private reported = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private readonly db: Db;
  private warned = false;
  private validated = false;
  private writes = 0;

  constructor(
    /** Opened with `whenUnreachable: 'wait'`: every use checks the schema first (at once, once it passed). */
    private readonly database: Database,
    private readonly fallback: InboxSettings | null,
    private readonly codec: InboxSecretCodec,
    private readonly log: Logger,
    /** baseUrl is where the inbox's API token is sent: checked when saved, and again at every connect. */
    private readonly guard: OutboundGuard,
    private readonly refreshMs = 5_000,
  ) {
    this.db = database.db;
  }

  /** Loads and validates every stored inbox; a database that is down leaves the env default working. */
  async start(): Promise<void> {
    if (this.fallback) for (const p of this.problems(this.fallback)) this.log.error(p);
    if (!this.codec.box)
      this.log.warn(
        'SECRETS_KEY is not set: chatwoot inbox secrets are stored in PostgreSQL in plain text (dev mode only; production mode refuses to start without it)',
      );
    // An unreachable PostgreSQL must not hold the whole gateway (WebSocket chat included) at start.
    await Promise.race([this.refresh().then(() => this.sealStale()), new Promise((r) => setTimeout(r, 3_000).unref())]);
    this.timer = setInterval(() => void this.refresh(), this.refreshMs);
    this.timer.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.database.close().catch(() => {
      /* closing: the pool goes with the process */
    });
  }

  /** The settings that answer for this inbox, or null when it is not ours. */
  resolve(accountId: number | null, inboxId: number | null): InboxSettings | null {
    if (accountId !== null && inboxId !== null) {
      const row = this.rows.get(key(accountId, inboxId));
      if (row) return row.enabled ? row : null;
      // Skipped, not handed to the env default: that would answer it with another tenant's agent and token.
      if (this.unreadable.has(key(accountId, inboxId))) return null;
    }
    if (accountId === null && inboxId !== null) {
      // Inbox ids are unique within a Chatwoot installation; events without an account still find theirs.
      const row = [...this.rows.values()].find((r) => r.inboxId === inboxId);
      if (row) return row.enabled ? row : null;
      if ([...this.unreadable.values()].some((v) => v.inboxId === inboxId)) return null;
    }
    const f = this.fallback;
    if (!f) return null;
    if (f.accountId !== null && (f.accountId !== accountId || f.inboxId !== inboxId)) return null;
    return f;
  }

  /** Why `resolve` found nothing, for logs and dead letters. */
  whyNot(accountId: number | null, inboxId: number | null): string {
    const where = `${accountId ?? '?'}/${inboxId ?? '?'}`;
    const unreadable = [...this.unreadable.values()].some((v) => v.inboxId === inboxId && (accountId === null || v.accountId === accountId));
    if (unreadable) return `chatwoot inbox ${where} is skipped: its stored secrets cannot be decrypted with this gateway's SECRETS_KEY`;
    return `no Chatwoot inbox ${where} is configured on this gateway`;
  }

  list(tenantId: string): ChatwootInboxView[] {
    const views = [...this.rows.values()].filter((s) => s.tenantId === tenantId).map(view);
    views.push(...[...this.unreadable.values()].filter((v) => v.tenantId === tenantId));
    if (this.fallback && this.fallback.tenantId === tenantId) views.push(view(this.fallback));
    return views;
  }

  /** Upserts one inbox for the caller's tenant; problems are refused before anything is written. */
  async put(tenantId: string, input: ChatwootInboxInput): Promise<ChatwootInboxView> {
    await this.database.checkSchema();
    // A handful of rows per installation: reading them all keeps drizzle's operators out of the gateway.
    const existing = (await this.db.select().from(chatwootInboxes)).find((r) => r.accountId === input.accountId && r.inboxId === input.inboxId);
    if (existing && existing.tenantId !== tenantId)
      throw new ActionError('conflict', `chatwoot inbox ${input.accountId}/${input.inboxId} belongs to another tenant`);
    const where = { accountId: input.accountId, inboxId: input.inboxId };
    const pick = <T>(v: T | undefined, old: T): T => (v === undefined ? old : v);
    // An omitted secret keeps the stored one, which must then be readable with the configured keys.
    const kept = (field: SecretField): string | null => {
      if (!existing) return null;
      try {
        return this.codec.open(where, field, existing[field]);
      } catch (err) {
        if (!(err instanceof UnreadableSecret)) throw err;
        throw new ActionError(
          'conflict',
          `chatwoot inbox ${where.accountId}/${where.inboxId}: the stored ${err.message}; send ${field} again (null clears it)`,
        );
      }
    };
    const next: InboxSettings = {
      accountId: input.accountId,
      inboxId: input.inboxId,
      tenantId,
      agentId: pick(input.agentId, existing?.agentId ?? null),
      baseUrl: input.baseUrl.replace(/\/+$/, ''),
      apiToken: input.apiToken ?? kept('apiToken') ?? '',
      webhookSecret: input.webhookSecret !== undefined ? input.webhookSecret : kept('webhookSecret'),
      inboxToken: input.inboxToken !== undefined ? input.inboxToken : kept('inboxToken'),
      answerStatuses: pick(input.answerStatuses, existing?.answerStatuses ?? ['pending']),
      handoffNote: pick(input.handoffNote, existing?.handoffNote ?? null) ?? DEFAULT_HANDOFF_NOTE,
      enabled: pick(input.enabled, existing?.enabled ?? true),
      source: 'database',
    };
    const problems = inboxProblems(next);
    const refused = await this.guard.checkResolved(next.baseUrl);
    if (refused) problems.push(`chatwoot inbox ${input.accountId}/${input.inboxId}: baseUrl ${refused}`);
    if (problems.length > 0) throw new ActionError('invalid_payload', problems.join('; '));
    const values = {
      accountId: input.accountId,
      inboxId: input.inboxId,
      tenantId,
      agentId: next.agentId,
      baseUrl: next.baseUrl,
      // Sealed on every save, so a row still in plain text (or under the previous key) is sealed anew.
      ...this.codec.sealAll(where, { apiToken: next.apiToken, webhookSecret: next.webhookSecret, inboxToken: next.inboxToken }),
      answerStatuses: next.answerStatuses,
      handoffNote: next.handoffNote === DEFAULT_HANDOFF_NOTE ? null : next.handoffNote,
      enabled: next.enabled,
      updatedAt: new Date(),
    };
    await this.db.transaction(async (tx) => {
      await tx.insert(tenants).values({ id: tenantId, name: tenantId }).onConflictDoNothing();
      await tx
        .insert(chatwootInboxes)
        .values(values)
        .onConflictDoUpdate({ target: [chatwootInboxes.accountId, chatwootInboxes.inboxId], set: values });
    });
    this.writes++;
    const k = key(input.accountId, input.inboxId);
    this.rows.set(k, next);
    this.unreadable.delete(k);
    this.reported.delete(k);
    return view(next);
  }

  /** Problems of an inbox loaded from env or by hand; requests to a refused baseUrl fail at connect anyway. */
  private problems(s: InboxSettings): string[] {
    const refused = this.guard.check(s.baseUrl);
    return [...inboxProblems(s), ...(refused ? [`chatwoot inbox ${s.accountId ?? '*'}/${s.inboxId ?? '*'}: baseUrl ${refused}; its answers are refused`] : [])];
  }

  private async refresh(): Promise<void> {
    try {
      await this.database.checkSchema();
      const seen = this.writes;
      const rows = await this.db.select().from(chatwootInboxes);
      // A read that began before a local save would put the old row back until the next refresh.
      if (seen !== this.writes) return;
      const loaded = new Map<string, InboxSettings>();
      const unreadable = new Map<string, ChatwootInboxView>();
      for (const r of rows) {
        const k = key(r.accountId, r.inboxId);
        try {
          loaded.set(k, settingsOf(r, this.codec.openAll(r, r)));
          this.reported.delete(k);
        } catch (err) {
          if (!(err instanceof UnreadableSecret)) throw err;
          // During a rolling key rotation, replicas not yet given the new key keep what they had read.
          const before = this.rows.get(k);
          if (before) loaded.set(k, before);
          else unreadable.set(k, { ...view(settingsOf(r, r)), secretsUnreadable: true });
          this.report(r, err, before !== undefined);
        }
      }
      this.rows = loaded;
      this.unreadable = unreadable;
      if (!this.validated) {
        // Rows written by hand or by an older gateway are checked once, when first loaded.
        this.validated = true;
        for (const s of this.rows.values()) for (const p of this.problems(s)) this.log.error(p);
      }
      this.warned = false;
    } catch (err) {
      // Keep the last known rows: a PostgreSQL blip must not stop WhatsApp answers.
      if (!this.warned)
        this.log.warn({ err: (err as Error).message }, 'could not load chatwoot inboxes from PostgreSQL; using the last known ones and the env default');
      this.warned = true;
    }
  }

  private report(r: Row, err: UnreadableSecret, kept: boolean): void {
    const k = key(r.accountId, r.inboxId);
    if (this.reported.get(k) === err.message) return;
    this.reported.set(k, err.message);
    const then = kept
      ? 'this gateway keeps the settings it read before'
      : 'the inbox is skipped until an admin saves its secrets again (PUT /api/v1/channels/chatwoot/inboxes) or the key it needs is set';
    this.log.error(
      { accountId: r.accountId, inboxId: r.inboxId, tenantId: r.tenantId, field: err.field, reason: err.failure.reason },
      `chatwoot inbox ${k} cannot be used: the stored ${err.message}; ${then}`,
    );
  }

  /**
   * Once at start with a key: rows still in plain text (written before encryption, or in dev mode) or
   * sealed under SECRETS_KEY_PREVIOUS are sealed with SECRETS_KEY, so plain text does not wait for a save.
   */
  private async sealStale(): Promise<void> {
    const box = this.codec.box;
    if (!box) return;
    try {
      await this.database.checkSchema();
      let sealed = 0;
      for (const r of await this.db.select().from(chatwootInboxes)) {
        if (!this.codec.isStale(r)) continue;
        let plain: InboxSecrets;
        try {
          plain = this.codec.openAll(r, r);
        } catch {
          continue; // reported by refresh
        }
        const s = this.codec.sealAll(r, plain);
        // Compare-and-set on the values read: a PUT landing in between keeps what it wrote. Plain SQL
        // because the gateway does not depend on drizzle's operators (see put).
        const res = await this.database.pool.query(
          `UPDATE chatwoot_inboxes SET api_token = $3, webhook_secret = $4, inbox_token = $5
            WHERE account_id = $1 AND inbox_id = $2 AND api_token = $6 AND webhook_secret IS NOT DISTINCT FROM $7 AND inbox_token IS NOT DISTINCT FROM $8`,
          [r.accountId, r.inboxId, s.apiToken, s.webhookSecret, s.inboxToken, r.apiToken, r.webhookSecret, r.inboxToken],
        );
        sealed += res.rowCount ?? 0;
      }
      if (sealed > 0)
        this.log.info(
          { inboxes: sealed, keyId: box.keyId },
          `encrypted the stored secrets of ${sealed} chatwoot inbox${sealed === 1 ? '' : 'es'} with SECRETS_KEY`,
        );
    } catch (err) {
      this.log.warn(
        { err: (err as Error).message },
        'could not encrypt the chatwoot inbox secrets still stored in plain text; they keep working and are encrypted when saved or at the next start',
      );
    }
  }
}

/** `secrets` are the row's, opened; the view of an unreadable row passes the sealed ones, only for its *Set flags. */
function settingsOf(r: Row, secrets: InboxSecrets): InboxSettings {
  return {
    accountId: r.accountId,
    inboxId: r.inboxId,
    tenantId: r.tenantId,
    agentId: r.agentId,
    baseUrl: r.baseUrl,
    apiToken: secrets.apiToken,
    webhookSecret: secrets.webhookSecret,
    inboxToken: secrets.inboxToken,
    answerStatuses: r.answerStatuses,
    handoffNote: r.handoffNote ?? DEFAULT_HANDOFF_NOTE,
    enabled: r.enabled,
    source: 'database',
  };
}

function view(s: InboxSettings): ChatwootInboxView {
  return {
    accountId: s.accountId ?? 0,
    inboxId: s.inboxId ?? 0,
    tenantId: s.tenantId,
    agentId: s.agentId,
    baseUrl: s.baseUrl,
    answerStatuses: s.answerStatuses,
    handoffNote: s.handoffNote,
    enabled: s.enabled,
    apiTokenSet: s.apiToken !== '',
    webhookSecretSet: s.webhookSecret !== null,
    inboxTokenSet: s.inboxToken !== null,
    source: s.source,
  };
}
