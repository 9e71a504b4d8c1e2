/**
 * Inbox settings: rows of `chatwoot_inboxes` held in memory (the webhook path must answer within
 * milliseconds, so it never waits on PostgreSQL), refreshed every few seconds so a PUT on one
 * replica reaches the others, with the env default inbox behind them.
 */
import { chatwootInboxes, createDb, tenants, type Db, type Pool } from '@parley/db';
import type { ChatwootInboxInput, ChatwootInboxView } from '@parley/contracts';
import { ActionError } from '@parley/contracts';
import type { Logger } from 'pino';
import { DEFAULT_HANDOFF_NOTE, inboxProblems, type InboxSettings } from './config.js';

const key = (accountId: number, inboxId: number) => `${accountId}/${inboxId}`;
type Row = typeof chatwootInboxes.$inferSelect;

export class InboxStore {
  private rows = new Map<string, InboxSettings>();
  private timer: NodeJS.Timeout | undefined;
  private readonly db: Db;
  private warned = false;
  private validated = false;
  private writes = 0;

  constructor(
    private readonly pool: Pool,
    private readonly fallback: InboxSettings | null,
    private readonly log: Logger,
    private readonly refreshMs = 5_000,
  ) {
    this.db = createDb(pool);
  }

  /** Loads and validates every stored inbox; a database that is down leaves the env default working. */
  async start(): Promise<void> {
    if (this.fallback) for (const p of inboxProblems(this.fallback)) this.log.error(p);
    // An unreachable PostgreSQL must not hold the whole gateway (WebSocket chat included) at start.
    await Promise.race([this.refresh(), new Promise((r) => setTimeout(r, 3_000).unref())]);
    this.timer = setInterval(() => void this.refresh(), this.refreshMs);
    this.timer.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.pool.end().catch(() => {});
  }

  /** The settings that answer for this inbox, or null when it is not ours. */
  resolve(accountId: number | null, inboxId: number | null): InboxSettings | null {
    if (accountId !== null && inboxId !== null) {
      const row = this.rows.get(key(accountId, inboxId));
      if (row) return row.enabled ? row : null;
    }
    if (accountId === null && inboxId !== null) {
      // Inbox ids are unique within a Chatwoot installation; events without an account still find theirs.
      const row = [...this.rows.values()].find((r) => r.inboxId === inboxId);
      if (row) return row.enabled ? row : null;
    }
    const f = this.fallback;
    if (!f) return null;
    if (f.accountId !== null && (f.accountId !== accountId || f.inboxId !== inboxId)) return null;
    return f;
  }

  list(tenantId: string): ChatwootInboxView[] {
    const views = [...this.rows.values()].filter((s) => s.tenantId === tenantId).map(view);
    if (this.fallback && this.fallback.tenantId === tenantId) views.push(view(this.fallback));
    return views;
  }

  /** Upserts one inbox for the caller's tenant; problems are refused before anything is written. */
  async put(tenantId: string, input: ChatwootInboxInput): Promise<ChatwootInboxView> {
    // A handful of rows per installation: reading them all keeps drizzle's operators out of the gateway.
    const existing = (await this.db.select().from(chatwootInboxes)).find((r) => r.accountId === input.accountId && r.inboxId === input.inboxId);
    if (existing && existing.tenantId !== tenantId) throw new ActionError('conflict', `chatwoot inbox ${input.accountId}/${input.inboxId} belongs to another tenant`);
    const pick = <T>(v: T | undefined, old: T): T => (v === undefined ? old : v);
    const next: InboxSettings = {
      accountId: input.accountId,
      inboxId: input.inboxId,
      tenantId,
      agentId: pick(input.agentId, existing?.agentId ?? null),
      baseUrl: input.baseUrl.replace(/\/+$/, ''),
      apiToken: pick(input.apiToken, existing?.apiToken ?? ''),
      webhookSecret: pick(input.webhookSecret, existing?.webhookSecret ?? null),
      inboxToken: pick(input.inboxToken, existing?.inboxToken ?? null),
      answerStatuses: pick(input.answerStatuses, existing?.answerStatuses ?? ['pending']),
      handoffNote: pick(input.handoffNote, existing?.handoffNote ?? null) ?? DEFAULT_HANDOFF_NOTE,
      enabled: pick(input.enabled, existing?.enabled ?? true),
      source: 'database',
    };
    const problems = inboxProblems(next);
    if (problems.length > 0) throw new ActionError('invalid_payload', problems.join('; '));
    const values = {
      accountId: input.accountId,
      inboxId: input.inboxId,
      tenantId,
      agentId: next.agentId,
      baseUrl: next.baseUrl,
      apiToken: next.apiToken,
      webhookSecret: next.webhookSecret,
      inboxToken: next.inboxToken,
      answerStatuses: next.answerStatuses,
      handoffNote: next.handoffNote === DEFAULT_HANDOFF_NOTE ? null : next.handoffNote,
      enabled: next.enabled,
      updatedAt: new Date(),
    };
    await this.db.transaction(async (tx) => {
      await tx.insert(tenants).values({ id: tenantId, name: tenantId }).onConflictDoNothing();
      await tx.insert(chatwootInboxes).values(values).onConflictDoUpdate({ target: [chatwootInboxes.accountId, chatwootInboxes.inboxId], set: values });
    });
    this.writes++;
    this.rows.set(key(input.accountId, input.inboxId), next);
    return view(next);
  }

  private async refresh(): Promise<void> {
    try {
      const seen = this.writes;
      const rows = await this.db.select().from(chatwootInboxes);
      // A read that began before a local save would put the old row back until the next refresh.
      if (seen !== this.writes) return;
      this.rows = new Map(rows.map((r) => [key(r.accountId, r.inboxId), settingsOf(r)]));
      if (!this.validated) {
        // Rows written by hand or by an older gateway are checked once, when first loaded.
        this.validated = true;
        for (const s of this.rows.values()) for (const p of inboxProblems(s)) this.log.error(p);
      }
      this.warned = false;
    } catch (err) {
      // Keep the last known rows: a PostgreSQL blip must not stop WhatsApp answers.
      if (!this.warned) this.log.warn({ err: (err as Error).message }, 'could not load chatwoot inboxes from PostgreSQL; using the last known ones and the env default');
      this.warned = true;
    }
  }
}

function settingsOf(r: Row): InboxSettings {
  return {
    accountId: r.accountId,
    inboxId: r.inboxId,
    tenantId: r.tenantId,
    agentId: r.agentId,
    baseUrl: r.baseUrl,
    apiToken: r.apiToken,
    webhookSecret: r.webhookSecret,
    inboxToken: r.inboxToken,
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
