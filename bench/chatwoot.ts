/**
 * `npm run bench:chatwoot`: Chatwoot webhook deliveries accepted by ONE gateway process at an
 * offered rate (open loop, default 500 req/s) and the time from the request's scheduled send to its
 * 200. Every request is a distinct, signed contact message in its own conversation, so each one
 * takes the full path: HMAC over the raw body, schema parse, dedupe + queue script, agent.run XADD.
 * No agent-execution runs: the runs wait on the stream, which is what the webhook path must not
 * depend on. Baseline: a Redis PING at the same offered rate, from the same process.
 *
 * Latency runs from the moment the request is written; how late the generator wrote it against its
 * schedule is reported beside it (generator_lag_p99_ms), so a starved load generator is visible
 * instead of being counted against the gateway. Beside it too, the gateway's own event-loop delay and
 * GC pauses over the phase (gateway_eld_*, gateway_gc_*; bench/lib/loop-stalls.ts): a stall of the
 * gateway's loop shows there, a stall of the bench's does not.
 *
 * The gateway gets a database of its own (created, migrated, dropped). BENCH_NODE_ARGS adds node flags
 * to the gateway, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`.
 */
import { createHmac, randomUUID } from 'node:crypto';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { redisUrl, databaseUrl } from '../packages/testing/src/env.js';
import { spawnTs } from '../packages/testing/src/spawn-ts.js';
import { deletePrefix } from '../packages/testing/src/redis.js';
import { urlForDatabase, withAdmin } from '../packages/testing/src/pg.js';
import { migrateDatabase } from '../packages/db/src/migrate.js';
import { cpuMs } from './lib/cpu-time.js';
import { loopStalls, ownGcPauses } from './lib/loop-stalls.js';
import { percentiles, report, type BenchRow } from './lib/results.js';
import { serviceEnv } from './lib/service-env.js';

const RATE = Number(process.env.BENCH_RATE ?? 500);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const WARMUP_S = 3;
const SECRET = 'bench-chatwoot-secret-0123456789';
const root = fileURLToPath(new URL('../', import.meta.url));

function body(conversation: number, id: number): Buffer {
  const sender = { id: 42, name: 'Bench Contact', type: 'contact', phone_number: '+15550000000' };
  const msg = {
    id,
    content: `bench message ${id}`,
    content_type: 'text',
    content_attributes: {},
    message_type: 'incoming',
    private: false,
    created_at: new Date().toISOString(),
    source_id: `wamid.${id}`,
    sender,
    inbox: { id: 1, name: 'WhatsApp' },
    account: { id: 1, name: 'Bench' },
  };
  const conv = {
    id: conversation,
    status: 'pending',
    inbox_id: 1,
    channel: 'Channel::Whatsapp',
    can_reply: true,
    contact_inbox: { source_id: '15550000000' },
    meta: { sender, assignee: null },
    messages: [{ ...msg, message_type: 0, created_at: Math.floor(Date.now() / 1000) }],
  };
  return Buffer.from(JSON.stringify({ event: 'message_created', ...msg, conversation: conv }));
}

/** Fires `count` operations at `rate`/s; latency from the actual send, lag = how late the generator sent it. */
async function openLoop(
  rate: number,
  count: number,
  op: (i: number) => Promise<boolean>,
): Promise<{ latencies: number[]; lags: number[]; ok: number; elapsedS: number }> {
  const latencies: number[] = [];
  const lags: number[] = [];
  let ok = 0;
  const start = performance.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const sent = performance.now();
    lags.push(Math.max(0, sent - due));
    inflight.push(
      op(i).then((good) => {
        latencies.push(performance.now() - sent);
        if (good) ok++;
      }),
    );
  }
  await Promise.all(inflight);
  return { latencies, lags, ok, elapsedS: (performance.now() - start) / 1000 };
}

async function main(): Promise<void> {
  const prefix = `bench:cw:${randomUUID().slice(0, 8)}`;
  const dbName = `parley_bench_cw_${Date.now()}`;
  await withAdmin((c) => c.query(`create database "${dbName}"`));
  const dbUrl = urlForDatabase(dbName, databaseUrl);
  await migrateDatabase(dbUrl);
  const gw = spawnTs(
    `${root}apps/gateway/src/main.ts`,
    {
      ...serviceEnv(redisUrl, dbUrl, prefix),
      INSTANCE_ID: `bench-gw-${prefix.slice(-8)}`,
      AUTH_JWT_SECRET: 'bench-secret-0123456789abcdef0123456789',
      CHATWOOT_BASE_URL: 'http://127.0.0.1:9',
      CHATWOOT_API_TOKEN: 'bench-api-token',
      CHATWOOT_WEBHOOK_SECRET: SECRET,
      CHATWOOT_TENANT_ID: 'bench',
      // The sink at 127.0.0.1:9 is the operator's to allow: the bench measures intake, not the outbound guard.
      OUTBOUND_ALLOW_HOSTS: '127.0.0.1',
    },
    [],
    process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [],
  );
  const redis = new Redis(redisUrl);
  await gw.waitForOutput('gateway listening on', 60_000);
  const port = Number(/"port":(\d+)/.exec(gw.output())?.[1]);
  const metricsUrl = `http://127.0.0.1:${/"metricsPort":(\d+)/.exec(gw.output())?.[1]}/metrics`;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 128 });
  const total = Math.round(RATE * (SECONDS + WARMUP_S));
  const payloads = Array.from({ length: total }, (_, i) => body(1_000_000 + i, 10_000_000 + i));
  const post = (i: number) =>
    new Promise<boolean>((resolve) => {
      const raw = payloads[i] as Buffer;
      const ts = String(Math.floor(Date.now() / 1000));
      const sig = `sha256=${createHmac('sha256', SECRET).update(`${ts}.`).update(raw).digest('hex')}`;
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          path: '/webhooks/chatwoot',
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/json',
            'content-length': raw.length,
            'x-chatwoot-signature': sig,
            'x-chatwoot-timestamp': ts,
            'x-chatwoot-delivery': randomUUID(),
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode === 200));
        },
      );
      req.on('error', () => resolve(false));
      req.end(raw);
    });

  const warm = Math.round(RATE * WARMUP_S);
  await openLoop(RATE, warm, post);
  const phase = await loopStalls('gateway', metricsUrl);
  const benchGc = ownGcPauses();
  const cpuBefore = cpuMs(gw.child.pid);
  const run = await openLoop(RATE, total - warm, (i) => post(warm + i));
  const cpuAfter = cpuMs(gw.child.pid);
  const stalls = await phase.end();
  const benchStalls = benchGc.end();
  const p = percentiles(run.latencies);
  const base = await openLoop(RATE, Math.round(RATE * 5), () => redis.ping().then(() => true));
  const bp = percentiles(base.latencies);
  const rows: BenchRow[] = [
    {
      case: 'webhook',
      concurrency: RATE,
      ops_per_s: run.ok / run.elapsedS,
      p50_ms: p.p50,
      p99_ms: p.p99,
      offered_per_s: RATE,
      accepted: run.ok,
      sent: run.latencies.length,
      generator_lag_p99_ms: percentiles(run.lags).p99,
      gateway_cpu_ms_per_op: ((cpuAfter ?? NaN) - (cpuBefore ?? NaN)) / Math.max(1, run.ok),
      ...stalls,
      ...benchStalls,
    },
    {
      case: 'redis_ping_baseline',
      concurrency: RATE,
      ops_per_s: base.ok / base.elapsedS,
      p50_ms: bp.p50,
      p99_ms: bp.p99,
      offered_per_s: RATE,
      accepted: base.ok,
      sent: base.latencies.length,
      generator_lag_p99_ms: percentiles(base.lags).p99,
    },
  ];
  report('chatwoot', rows, [
    `one gateway process, ${RATE} signed webhook deliveries/s offered for ${SECONDS} s after ${WARMUP_S} s warm-up; latency = request written → 200 (target p99 ≤ 10 ms)`,
    `every delivery is a new conversation: HMAC + parse + dedupe/queue script + agent.run XADD; no agent-execution consumes the runs`,
    `gateway_eld_*_ms: the gateway's event-loop delay over the webhook phase (monitorEventLoopDelay at 1 ms resolution: an idle loop reads ~1 ms, a stall of s ms ~s + 1); gateway_gc_pause_ms / gateway_gc_count: its GC pauses in the phase, every one; bench_gc_*: the load generator's own, which delay the responses it times`,
  ]);
  agent.destroy();
  await gw.kill('SIGTERM');
  await deletePrefix(redis, prefix);
  redis.disconnect();
  await withAdmin((c) => c.query(`drop database if exists "${dbName}" with (force)`));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
