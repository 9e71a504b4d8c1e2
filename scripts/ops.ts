// npm run ops -- <command>: look at and repair the bus of a running Parley.
import type * as BusModule from '@parley/bus';
import { catalog } from '@parley/contracts';
import { helpText, parseCommand, route, type CommandSpec, type Subcommand } from './cli/args.js';
import { runCli, UsageError } from './cli/errors.js';
import { printTable } from './cli/table.js';

/** The bus's operator functions, loaded once a command is about to use them (--help stays quick). */
type BusOps = typeof BusModule;

const PROGRAM = 'npm run ops --';
const services = [...new Set(Object.values(catalog).map((d) => d.service))].sort();
const ENV = [
  'env: REDIS_URL (default redis://127.0.0.1:6379), REDIS_CLUSTER_NODES (host:port,…: a Redis Cluster), BUS_PREFIX (default parley)',
  `services: ${services.join(', ')}`,
];
const redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const clusterNodes = process.env['REDIS_CLUSTER_NODES'] || undefined;
const prefix = process.env['BUS_PREFIX'] ?? 'parley';

const output = {
  json: { type: 'boolean', help: 'JSON on stdout, for machines (every field, nothing cut)' },
  full: { type: 'boolean', help: 'whole cells instead of cutting long ones with …' },
} as const;

function service(name: string | undefined, usage: string): string {
  if (name && (services as readonly string[]).includes(name)) return name;
  throw new UsageError(`unknown service "${name ?? ''}"; services: ${services.join(', ')}`, usage);
}

const fmtAge = (ms: number | null) => (ms === null ? null : ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`);

/** A command: its spec, and what it does with Redis once its arguments are valid. */
function command<F extends CommandSpec>(
  spec: F,
  body: (redis: BusModule.RedisClient, parsed: ReturnType<typeof parseCommand<F['flags']>>, bus: BusOps) => Promise<number>,
): Subcommand {
  return {
    spec,
    async run(argv) {
      const parsed = parseCommand(spec, argv);
      if (parsed.help) {
        console.log(helpText(spec));
        return 0;
      }
      const [bus, { connectRedis }] = await Promise.all([import('@parley/bus'), import('./cli/deps.js')]);
      const redis = await connectRedis(redisUrl, clusterNodes);
      try {
        return await body(redis, parsed, bus);
      } finally {
        redis.disconnect();
      }
    },
  };
}

const statusSpec = {
  usage: `${PROGRAM} status`,
  summary: 'streams per service and the node serving each: length, lag, pending, consumers, oldest pending, dead letters',
  flags: output,
  notes: ENV,
} satisfies CommandSpec;

const listSpec = {
  usage: `${PROGRAM} dlq list`,
  args: '<service> [limit]',
  summary: 'newest dead letters of a service (limit: 1–1000, default 20)',
  flags: output,
  positionals: { min: 1, max: 2 },
  notes: ENV,
} satisfies CommandSpec;

const replaySpec = {
  usage: `${PROGRAM} dlq replay`,
  args: '<service> <id…>',
  summary: "put dead letters back on the service's stream (--all: every one)",
  flags: { all: { type: 'boolean', help: 'replay every dead letter of the service' } },
  positionals: { min: 1, max: 1000 },
  notes: ENV,
} satisfies CommandSpec;

const drainSpec = {
  usage: `${PROGRAM} drain`,
  args: '<service> <consumer>',
  summary: "hand a leaving consumer's pending work to the others, then remove it",
  flags: {},
  positionals: { min: 2, max: 2 },
  notes: ENV,
} satisfies CommandSpec;

const commands: Record<string, Subcommand> = {
  status: command(statusSpec, async (redis, { flags }, { streamStatus, nodeServing }) => {
    // On a cluster each stream lives on one master: the node column says which, so lag can be read per node.
    const rows = await Promise.all(
      services.map(async (s) => {
        const status = await streamStatus(redis, prefix, s);
        const node = nodeServing(redis, status.stream).options;
        return { node: `${node.host ?? '127.0.0.1'}:${node.port ?? 6379}`, ...status };
      }),
    );
    rows.sort((a, b) => a.node.localeCompare(b.node) || a.service.localeCompare(b.service));
    printTable(
      rows.map((r) => ({
        node: r.node,
        service: r.service,
        length: r.length,
        lag: r.lag,
        pending: r.pending,
        consumers: r.consumers.map((c) => `${c.name}(${c.pending} pending, idle ${fmtAge(c.idleMs)})`).join(', ') || null,
        oldest_pending: fmtAge(r.oldestPendingMs),
        dead_letters: r.deadLetters,
      })),
      { ...flags, machine: rows },
    );
    return 0;
  }),
  'dlq list': command(listSpec, async (redis, { flags, positionals: [svc, limitArg] }, { listDeadLetters }) => {
    const limit = Number(limitArg ?? 20);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
      throw new UsageError(`limit expects a whole number from 1 to 1000, got "${limitArg}"`, helpText(listSpec));
    const letters = await listDeadLetters(redis, prefix, service(svc, helpText(listSpec)), limit);
    printTable(
      letters.map(({ id, type, code, attempts, at, reason }) => ({ id, at: new Date(at).toISOString(), type, code, attempts, reason })),
      { ...flags, machine: letters },
    );
    return 0;
  }),
  'dlq replay': command(replaySpec, async (redis, { flags, positionals: [svc, ...ids] }, { replayDeadLetters }) => {
    if (ids.length === 0 && !flags.all) throw new UsageError('name dead-letter ids, or --all', helpText(replaySpec));
    if (ids.length > 0 && flags.all) throw new UsageError('either ids or --all, not both', helpText(replaySpec));
    const result = await replayDeadLetters(redis, prefix, service(svc, helpText(replaySpec)), flags.all ? 'all' : ids);
    console.log(`replayed ${result.replayed.length}`);
    for (const s of result.skipped) console.log(`skipped ${s.id}: ${s.why}`);
    return 0;
  }),
  drain: command(drainSpec, async (redis, { positionals: [svc, consumer] }, { drainConsumer }) => {
    const r = await drainConsumer(redis, prefix, service(svc, helpText(drainSpec)), consumer!);
    console.log(`consumer ${r.consumer}: handed over ${r.handedOver} pending, removed: ${r.removed}`);
    return 0;
  }),
};

await runCli('ops', async () => {
  const { command: cmd, rest, help } = route(PROGRAM, commands, process.argv.slice(2));
  if (help !== undefined) {
    console.log(help);
    return 0;
  }
  return cmd!.run(rest);
});
