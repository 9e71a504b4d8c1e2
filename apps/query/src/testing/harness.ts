/**
 * For the through-the-bus tests in src/tests/*.test.ts: the real service (src/main.ts) in a child
 * process, against this file's own database, a unique bus prefix and the dev model server over HTTP.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createBus, type ActionMeta, type Bus } from '@parley/bus';
import { catalog, type Catalog } from '@parley/contracts';
import { startDevModelServer, type DevModelServer } from '@parley/llm/dev-server';
import { createTestDatabase, dropTestDatabase, urlForDatabase } from '@parley/testing/pg';
import { deletePrefix, newRedis, redisUrl, spawnTs, uniquePrefix, type TsProcess } from '@parley/testing/tools';
import pg from 'pg';

const mainFile = fileURLToPath(new URL('../main.ts', import.meta.url));
export const corpusDir = fileURLToPath(new URL('../../../../tests/fixtures/knowledge/', import.meta.url));

export interface QueryHarness {
  bus: Bus<Catalog>;
  dev: DevModelServer;
  pool: pg.Pool;
  service: TsProcess;
  prefix: string;
  meta(tenantId: string): ActionMeta;
  stop(): Promise<void>;
}

export async function startQueryHarness(env: Record<string, string> = {}): Promise<QueryHarness> {
  const dbName = await createTestDatabase();
  const databaseUrl = urlForDatabase(dbName);
  const dev = await startDevModelServer({ port: 0 });
  // Scripted failures fail at once instead of waiting through the SDK's backoff.
  dev.control.apply({ retryAfterMs: 1 });
  const prefix = uniquePrefix('query');
  const service = spawnTs(mainFile, {
    REDIS_URL: redisUrl,
    DATABASE_URL: databaseUrl,
    BUS_PREFIX: prefix,
    MODEL_BASE_URL: dev.url,
    MODEL_MAX_RETRIES: '0',
    HTTP_HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    ...env,
  });
  await service.waitForOutput('"msg":"ready"', 30_000);
  const bus = createBus({ catalog, service: 'test', redis: redisUrl, prefix });
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 3 });
  pool.on('error', () => {});
  return {
    bus,
    dev,
    pool,
    service,
    prefix,
    meta: (tenantId) => ({ tenantId }),
    async stop() {
      await bus.close(0).catch(() => {
        /* test cleanup: nothing to undo if closing fails */
      });
      await service.kill('SIGTERM');
      await pool.end().catch(() => {
        /* test cleanup: nothing to undo if closing fails */
      });
      await dev.close();
      await dropTestDatabase(dbName);
      const r = newRedis();
      await deletePrefix(r, prefix).finally(() => r.disconnect());
    },
  };
}

export interface CorpusDocument {
  file: string;
  title: string;
  text?: string;
  markdown?: string;
}

/** The committed test corpus: markdown files keep their structure, .txt files are plain text. */
export function loadCorpus(): CorpusDocument[] {
  return readdirSync(corpusDir)
    .sort()
    .map((file) => {
      const body = readFileSync(`${corpusDir}${file}`, 'utf8');
      const title = body.split('\n')[0]!.replace(/^#\s*/, '').split(/[.:]/)[0]!.trim();
      return file.endsWith('.md') ? { file, title, markdown: body } : { file, title, text: body };
    });
}

/** Request counts of the dev model server (`/_stats` → requests). */
export function modelRequests(dev: DevModelServer): { chat: number; embeddings: number; failed: number } {
  const r = dev.control.stats().requests as { chat: number; embeddings: number; failed: number };
  return { chat: r.chat, embeddings: r.embeddings, failed: r.failed };
}
