/**
 * Test and benchmark helpers for the migration service: run its main in a child process, seed hot
 * conversations through the real conversation store, and a TCP proxy that can "unplug" PostgreSQL.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { ConversationStore, HotStore, type AppendInput } from '@parley/conversation-store';
import { createDb } from '@parley/db/client';
import { redisUrl, spawnTs, waitFor, type TsProcess } from '@parley/testing/tools';
import type { Bus } from '@parley/bus';
import type { Catalog, MigrationStats } from '@parley/contracts';
import type { Redis } from 'ioredis';
import type pg from 'pg';

// Root tests cannot resolve workspace packages the root does not depend on; they get them from here.
export { getArchivedConversation, readAllArchivedMessages, migrationDueKey, type ConversationStore } from '@parley/conversation-store';
export { createDb } from '@parley/db/client';
export { migrationPausedKey, migrationStatsKey } from '../stores/migration-counters.js';

export const migrationMain = fileURLToPath(new URL('../main.ts', import.meta.url));

export interface MigrationProcess extends TsProcess {
  /** The health server's port, once the service said `ready`. */
  port(): number;
  readyz(): Promise<{ status: number; body: { status: string; reasons?: string[]; checks: Record<string, string> } }>;
  logLines(): Array<Record<string, unknown>>;
}

/** Starts apps/migration/src/main.ts; resolves once it logged `ready`. */
export async function startMigration(env: Record<string, string>): Promise<MigrationProcess> {
  const p = spawnTs(migrationMain, { REDIS_URL: redisUrl, HTTP_HOST: '127.0.0.1', HTTP_PORT: '0', LOG_LEVEL: 'info', ...env });
  const logLines = () =>
    p
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  const port = () => Number(logLines().find((l) => l.msg === 'ready')?.httpPort);
  await p.waitForOutput('"msg":"ready"', 20_000);
  return {
    ...p,
    port,
    logLines,
    async readyz() {
      const res = await fetch(`http://127.0.0.1:${port()}/readyz`);
      return { status: res.status, body: (await res.json()) as { status: string; reasons?: string[]; checks: Record<string, string> } };
    },
  };
}

/**
 * Stats once `conversations` migrations were counted: the counters move just after the hot copy is
 * deleted, so a test that saw the copy disappear may read them a moment early.
 */
export async function statsAfter(bus: Bus<Catalog>, conversations: number): Promise<MigrationStats> {
  return waitFor(
    async () => {
      const s = await bus.call('migration.get_stats', {}, { tenantId: 'ops' });
      return s.migratedConversations >= conversations ? s : null;
    },
    { what: `stats to count ${conversations} migrated conversations` },
  );
}

export function conversationStore(redis: Redis, prefix: string, pool: pg.Pool, idleMs = 60 * 60_000): ConversationStore {
  return new ConversationStore(new HotStore(redis, { prefix, idleMs }), createDb(pool), { reopenWaitMs: 10_000 });
}

let seq = 0;
export function message(conversationId: string, i: number, over: Partial<AppendInput> = {}): AppendInput {
  seq++;
  const role = i % 2 === 0 ? 'user' : 'assistant';
  return {
    conversationId,
    messageId: `m-${conversationId}-${i}-${seq}`,
    role,
    content: `${role} message ${i} of ${conversationId}`,
    tokenCount: 5 + (i % 7),
    ...(role === 'assistant' ? { model: 'dev', latencyMs: 100 + i, usage: { promptTokens: 10, completionTokens: 5, totalTokens: 15 } } : {}),
    ...over,
  };
}

/** Appends `n` alternating user/assistant messages; closes the conversation when asked (due at once). */
export async function seedConversation(
  store: ConversationStore,
  tenantId: string,
  conversationId: string,
  n: number,
  opts: { close?: boolean } = {},
): Promise<void> {
  for (let i = 0; i < n; i++)
    await store.append(tenantId, message(conversationId, i, i === 0 ? { channel: 'web', agentId: 'support', sessionId: `s-${conversationId}` } : {}));
  if (opts.close) await store.close(tenantId, conversationId);
}

export const uid = (label = 'c') => `${label}-${Math.random().toString(36).slice(2, 10)}`;

/** Rows per conversation in the archive, and the duplicates that must never exist. */
export async function archiveCounts(
  pool: pg.Pool,
  ids: string[],
): Promise<{ conversations: number; messages: number; duplicateSeqs: number; byConversation: Map<string, number> }> {
  const conv = await pool.query<{ n: string }>('select count(*) as n from conversations where id = any($1)', [ids]);
  const msgs = await pool.query<{ id: string; n: string; distinct_seq: string }>(
    'select conversation_id as id, count(*) as n, count(distinct seq) as distinct_seq from messages where conversation_id = any($1) group by conversation_id',
    [ids],
  );
  const byConversation = new Map(msgs.rows.map((r) => [r.id, Number(r.n)]));
  return {
    conversations: Number(conv.rows[0]?.n ?? 0),
    messages: msgs.rows.reduce((s, r) => s + Number(r.n), 0),
    duplicateSeqs: msgs.rows.reduce((s, r) => s + Number(r.n) - Number(r.distinct_seq), 0),
    byConversation,
  };
}

/**
 * A TCP proxy in front of PostgreSQL: `unplug()` closes the port and cuts every open connection
 * (what a crashed or stopped server looks like to a client); `plug()` opens the same port again.
 */
export interface PgProxy {
  port: number;
  url(databaseUrl: string): string;
  unplug(): Promise<void>;
  plug(): Promise<void>;
  close(): Promise<void>;
}

export async function pgProxy(targetUrl: string): Promise<PgProxy> {
  const target = new URL(targetUrl);
  const targetPort = Number(target.port || 5432);
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  // Below the kernel's ephemeral range (32768–60999 by default): while unplugged the port must stay
  // ours to listen on again, and an ephemeral one can meanwhile be handed to any outgoing connection
  // of a test running beside this one (seen: EADDRINUSE on plug in a full run).
  let port = 0;
  const listenOnce = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer((client) => {
        const upstream = connect(targetPort, target.hostname);
        for (const sock of [client, upstream]) {
          sockets.add(sock);
          sock.on('close', () => sockets.delete(sock));
          sock.on('error', () => {
            client.destroy();
            upstream.destroy();
          });
        }
        client.pipe(upstream).pipe(client);
      });
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        port = (s.address() as { port: number }).port;
        server = s;
        resolve();
      });
    });
  const listen = async (): Promise<void> => {
    if (port !== 0) return listenOnce();
    for (let attempt = 0; ; attempt++) {
      port = 20_000 + Math.floor(Math.random() * 12_000);
      try {
        return await listenOnce();
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 20) throw err;
      }
    }
  };
  const unplug = async () => {
    const s = server;
    server = null;
    for (const sock of sockets) sock.destroy();
    if (s) await new Promise<void>((r) => s.close(() => r()));
  };
  await listen();
  return {
    get port() {
      return port;
    },
    url(databaseUrl) {
      const u = new URL(databaseUrl);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    unplug,
    plug: listen,
    close: unplug,
  };
}
