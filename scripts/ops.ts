// npm run ops -- <command>: look at and repair the bus of a running Parley.
import { Redis } from 'ioredis';
import { catalog } from '@parley/contracts';
import { drainConsumer, listDeadLetters, replayDeadLetters, streamStatus } from '@parley/bus';

const usage = `usage: npm run ops -- <command>
  status                          streams per service: length, lag, pending, consumers, oldest pending, dead letters
  dlq list <service> [limit]      newest dead letters of a service
  dlq replay <service> <id…|--all> put dead letters back on the service's stream
  drain <service> <consumer>      hand a leaving consumer's pending work to the others, then remove it
env: REDIS_URL (default redis://127.0.0.1:6379), BUS_PREFIX (default parley)`;

const services = [...new Set(Object.values(catalog).map((d) => d.service))].sort();
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 1, retryStrategy: () => null });
const prefix = process.env.BUS_PREFIX ?? 'parley';

type Service = (typeof services)[number];
const isService = (name: string | undefined): name is Service => services.some((s) => s === name);

function service(name: string | undefined): Service {
  if (isService(name)) return name;
  console.error(`unknown service "${name ?? ''}"; services: ${services.join(', ')}`);
  process.exit(2);
}

const fmtAge = (ms: number | null) => (ms === null ? '-' : ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`);

async function main(args: string[]): Promise<number> {
  const [cmd, sub, ...rest] = args;
  if (cmd === 'status') {
    const rows = await Promise.all(services.map((s) => streamStatus(redis, prefix, s)));
    console.table(
      rows.map((r) => ({
        service: r.service,
        length: r.length,
        lag: r.lag ?? '-',
        pending: r.pending,
        consumers: r.consumers.map((c) => `${c.name}(${c.pending} pending, idle ${fmtAge(c.idleMs)})`).join(', ') || '-',
        oldest_pending: fmtAge(r.oldestPendingMs),
        dead_letters: r.deadLetters,
      })),
    );
    return 0;
  }
  if (cmd === 'dlq' && sub === 'list') {
    const letters = await listDeadLetters(redis, prefix, service(rest[0]), Number(rest[1] ?? 20));
    console.table(letters.map(({ raw: _raw, at, ...l }) => ({ ...l, at: new Date(at).toISOString() })));
    return 0;
  }
  if (cmd === 'dlq' && sub === 'replay') {
    const [svc, ...ids] = rest;
    if (ids.length === 0) return (console.error('name dead-letter ids, or --all'), 2);
    const result = await replayDeadLetters(redis, prefix, service(svc), ids.includes('--all') ? 'all' : ids);
    console.log(`replayed ${result.replayed.length}`);
    for (const s of result.skipped) console.log(`skipped ${s.id}: ${s.why}`);
    return 0;
  }
  if (cmd === 'drain' && sub && rest[0]) {
    const r = await drainConsumer(redis, prefix, service(sub), rest[0]);
    console.log(`consumer ${r.consumer}: handed over ${r.handedOver} pending, removed: ${r.removed}`);
    return 0;
  }
  console.error(usage);
  return 2;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  console.error(`ops failed: ${(err as Error).message}`);
  process.exitCode = 1;
} finally {
  redis.disconnect();
}
