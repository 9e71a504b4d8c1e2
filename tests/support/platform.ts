import { afterAll, beforeAll } from 'vitest';
import { createTestDatabase, deletePrefix, dropTestDatabase, newTestRedis, uniquePrefix, urlForDatabase } from '@parley/testing';
import { startGateway, startServices, type RunningGateway, type Services } from './gateway-env.js';

export interface Platform {
  readonly prefix: string;
  readonly services: Services;
  /** The file's gateway (only when asked for). */
  readonly gw: RunningGateway;
}

/**
 * One test file's platform: its own bus prefix and database, the services as child processes, and a
 * gateway when asked for; all torn down (keys, database, processes) after the file.
 */
/** `services`: extra env of every service process (e.g. a short APPROVAL_TIMEOUT_MS). */
export function usePlatform(
  label: string,
  opts: { query?: boolean; migration?: boolean; gateway?: Record<string, string>; services?: Record<string, string> } = {},
): Platform {
  let prefix = '';
  let db = '';
  let services: Services | undefined;
  let gw: RunningGateway | undefined;
  beforeAll(async () => {
    prefix = uniquePrefix(label);
    db = await createTestDatabase();
    services = await startServices(prefix, urlForDatabase(db), {
      query: opts.query ?? false,
      migration: opts.migration ?? false,
      ...(opts.services ? { env: opts.services } : {}),
    });
    // The file's database, not the machine's `parley` one (which may be behind this checkout's migrations).
    if (opts.gateway) gw = await startGateway(prefix, { DATABASE_URL: urlForDatabase(db), ...opts.gateway });
    // Above the services' own start-up wait (gateway-env.ts), so a slow start fails with their output, not a bare hook timeout.
  }, 150_000);
  afterAll(async () => {
    await gw?.close();
    await services?.stop();
    const r = newTestRedis();
    await deletePrefix(r, prefix);
    r.disconnect();
    if (db) await dropTestDatabase(db);
  });
  return {
    get prefix() {
      return prefix;
    },
    get services() {
      if (!services) throw new Error('platform not started: use it inside a test');
      return services;
    },
    get gw() {
      if (!gw) throw new Error('this file asked for no gateway');
      return gw;
    },
  };
}
