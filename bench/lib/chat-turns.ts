import { availableParallelism } from 'node:os';
import type { Redis } from 'ioredis';
import { ParleyClient, RunFailedError } from '../../packages/client/src/index.js';
import { cpuPerOp, cpuSnapshot, ioCalls } from './cpu-time.js';
import { percentiles, type BenchRow } from './results.js';
import { redisCalls } from './redis-calls.js';

export interface ChatTurns {
  name: string;
  /** The gateway's chat WebSocket (the platform's or the raw path's). */
  url: string;
  token: (sub: string) => string;
  concurrency: number;
  turns: number;
  /** Mean of the exponential pause after each answer; 0 sends the next message at once. */
  thinkMs: number;
  /** Tokens in each scripted answer (default 20) and the dev model's pause between them (default its own, 0 in the bench). */
  answer?: { tokens: number; tokenDelayMs?: number };
  /** Base URL of the dev model server's control routes (/_control, /_requests). */
  modelRoot: string;
  /** Processes whose CPU a turn costs, by name (the model server and the bench included). */
  pids: Record<string, number | undefined>;
  redis: Redis;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const TURN_TIMEOUT_MS = 30_000;

/**
 * `concurrency` clients each chat `turns` times; per turn, the time to the first agent.token at the
 * client minus the dev model's own time to that request's first token (its arrival at the model server
 * to the token on the wire, from GET /_requests, paired by the turn's unique text). What is left is the
 * platform's overhead: the hops, the services' work and the wait for CPU on a shared host.
 */
export async function measureChatTurns(c: ChatTurns): Promise<BenchRow> {
  // Exponential pauses: clients drift apart instead of marching in step.
  const think = () => (c.thinkMs > 0 ? sleep(-Math.log(1 - Math.random()) * c.thinkMs) : Promise.resolve());
  // The dev model's per-request instructions (packages/llm's magic.ts): answer length and pace.
  const magic = `[[tokens:${c.answer?.tokens ?? 20}]]${c.answer?.tokenDelayMs === undefined ? '' : ` [[slow:${c.answer.tokenDelayMs}]]`}`;
  const chatters = await Promise.all(
    Array.from({ length: c.concurrency }, async (_, i) => {
      const client = new ParleyClient({ url: c.url, token: c.token(`chatter-${i}`), reconnect: false });
      await client.connect();
      return client;
    }),
  );
  try {
    // One unmeasured turn each first: conversations created, JIT warm, pools filled.
    await Promise.all(
      chatters.map(async (client) => {
        for await (const _f of await client.chat('warm-up [[tokens:5]]'));
      }),
    );
    await fetch(`${c.modelRoot}/_control`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"reset":true}' });
    const cpuBefore = await cpuSnapshot(c.pids, { redis: c.redis, postgres: true });
    const callsBefore = await redisCalls(c.redis);
    const ioBefore = Object.fromEntries(Object.entries(c.pids).map(([k, pid]) => [k, ioCalls(pid) ?? NaN]));
    const clientTtft = new Map<string, number>();
    const turnMs: number[] = [];
    const started = performance.now();
    await Promise.all(
      chatters.map(async (client, ci) => {
        for (let t = 0; t < c.turns; t++) {
          await think();
          // Unique, so the model server's record of this request pairs with the client's time.
          const text = `hello from client ${ci}, turn ${t} ${magic}`;
          const s = performance.now();
          let first = true;
          const run = await client.chat(text);
          // A turn that never ends would hang the benchmark; it fails it instead, naming the run.
          const stuck = setTimeout(() => run.abort(new Error('timed out')), TURN_TIMEOUT_MS);
          let ended = false;
          let failure = 'the stream ended';
          const seen: string[] = [];
          // agent.error, a closed socket and the timeout above all reject the run's result.
          run.result().catch((err: unknown) => (failure = err instanceof RunFailedError ? `${err.code}: ${err.message}` : String(err)));
          try {
            for await (const f of run) {
              seen.push(f.type);
              if (first && f.type === 'agent.token') {
                clientTtft.set(text, performance.now() - s);
                first = false;
              }
              if (f.type === 'agent.message') {
                ended = true;
                turnMs.push(performance.now() - s);
              }
            }
          } finally {
            clearTimeout(stuck);
          }
          if (!ended)
            throw new Error(
              `${c.name}: turn ${t} of client ${ci} (run ${run.runId}) ended without an answer (${failure}; got ${seen.join(', ') || 'nothing'} after chat.accepted; the model saw it: ${(await modelRecords(c.modelRoot, 0)).some((r) => r.lastUser === text)}; the run: ${await runStatus(c, ci, run.runId)})`,
            );
        }
      }),
    );
    const ops = c.concurrency * c.turns;
    const turnsPerS = ops / ((performance.now() - started) / 1000);
    const cpu = cpuPerOp(cpuBefore, await cpuSnapshot(c.pids, { redis: c.redis, postgres: true }), ops);
    const redisCmdsPerTurn = ((await redisCalls(c.redis)) - callsBefore) / ops;
    const ioPerTurn = Object.fromEntries(
      Object.entries(c.pids).map(([k, pid]) => [`${k}_syscalls_per_turn`, ((ioCalls(pid) ?? NaN) - (ioBefore[k] ?? NaN)) / ops]),
    );
    const ttft: number[] = [];
    const modelTtft: number[] = [];
    const overhead: number[] = [];
    for (const r of await modelRecords(c.modelRoot, clientTtft.size)) {
      const client = r.lastUser === undefined ? undefined : clientTtft.get(r.lastUser);
      if (client === undefined || r.firstTokenMs === undefined) continue;
      ttft.push(client);
      modelTtft.push(r.firstTokenMs);
      overhead.push(client - r.firstTokenMs);
    }
    const cpuPerTurn = Object.fromEntries(Object.entries(cpu).map(([k, ms]) => [`${k}_cpu_ms_per_turn`, ms]));
    const hostMs = Object.values(cpu).reduce((a, b) => a + b, 0);
    const o = percentiles(overhead);
    const t = percentiles(ttft);
    const m = percentiles(modelTtft);
    return {
      case: c.name,
      concurrency: c.concurrency,
      think_ms_mean: c.thinkMs,
      ops_per_s: turnsPerS,
      p50_ms: o.p50,
      p99_ms: o.p99,
      ttft_p50_ms: t.p50,
      ttft_p99_ms: t.p99,
      model_ttft_p50_ms: m.p50,
      model_ttft_p99_ms: m.p99,
      turns: clientTtft.size,
      answer_tokens: c.answer?.tokens ?? 20,
      // The whole answer at the client, first frame to agent.message: a stream's length.
      turn_p50_ms: percentiles(turnMs).p50,
      turn_p99_ms: percentiles(turnMs).p99,
      paired_turns: overhead.length,
      ...cpuPerTurn,
      host_cpu_ms_per_turn: hostMs,
      host_bound_turns_per_s: (availableParallelism() * 1000) / hostMs,
      redis_cmds_per_turn: redisCmdsPerTurn,
      ...ioPerTurn,
    };
  } finally {
    for (const client of chatters) client.close();
  }
}

/**
 * The model server's records of the phase's requests. A request is recorded once its reply has ended on
 * the server's side, which can come a moment after the client saw the end, so the last few may lag.
 */
async function modelRecords(modelRoot: string, expected: number): Promise<Array<{ lastUser?: string; firstTokenMs?: number }>> {
  const deadline = performance.now() + 2_000;
  for (;;) {
    const records = (await (await fetch(`${modelRoot}/_requests`)).json()) as Array<{ lastUser?: string; firstTokenMs?: number }>;
    if (records.length >= expected || performance.now() > deadline) return records;
    await sleep(50);
  }
}

/** What the platform's REST API says of a run (its record), for a failed turn's message. */
async function runStatus(c: ChatTurns, client: number, runId: string): Promise<string> {
  const api = c.url.replace(/^ws/, 'http').replace(/\/ws\/chat$/, `/api/v1/runs/${runId}`);
  try {
    const res = await fetch(api, { headers: { authorization: `Bearer ${c.token(`chatter-${client}`)}` } });
    return `${res.status} ${(await res.text()).slice(0, 400)}`;
  } catch (err) {
    return String(err);
  }
}
