import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  createTestDatabase,
  deletePrefix,
  dropTestDatabase,
  newTestRedis,
  testRedisEnv,
  spawnTs,
  uniquePrefix,
  urlForDatabase,
  waitFor,
} from '@parley/testing';
import { fileURLToPath } from 'node:url';
import { ParleyClient, type RunFrame } from '../packages/client/src/index.js';
import { SECRET, rawSocket, startGateway, startServices, token, type RunningGateway, type Services } from './support/gateway-env.js';

let prefix: string;
let db: string;
let services: Services;
let a: RunningGateway;
let b: RunningGateway;

const limits = { RUNS_PER_MINUTE: '3', WS_MAX_SOCKETS_PER_USER: '2' };

beforeAll(async () => {
  prefix = uniquePrefix('gwrep');
  db = await createTestDatabase();
  services = await startServices(prefix, urlForDatabase(db));
  // Replicas share one database, as in production.
  const shared = { ...limits, DATABASE_URL: urlForDatabase(db) };
  [a, b] = await Promise.all([startGateway(prefix, shared), startGateway(prefix, shared)]);
});

afterAll(async () => {
  await Promise.all([a?.close(), b?.close()]);
  await services?.stop();
  const r = newTestRedis();
  await deletePrefix(r, prefix);
  r.disconnect();
  await dropTestDatabase(db);
});

const seqOf = (f: RunFrame) => (f.type === 'agent.error' ? (f.seq ?? -1) : f.seq);

describe('two gateway replicas', () => {
  test('a client on replica A resumes a run on replica B with no gap and no duplicate', async () => {
    const onA = new ParleyClient({ url: a.ws, token: token({ sub: 'resumer' }), reconnect: false });
    await onA.connect();
    const run = await onA.chat('stream me [[slow:15]] [[tokens:60]]');
    const seen: RunFrame[] = [];
    for await (const f of run) {
      seen.push(f);
      if (seen.length >= 8) break;
    }
    onA.close();
    // Let the run move on while no one listens, so B must replay from the log, then go live.
    await new Promise((r) => setTimeout(r, 200));
    const onB = new ParleyClient({ url: b.ws, token: token({ sub: 'resumer' }), reconnect: false });
    await onB.connect();
    // From the last frame this test consumed: the client may have received (and buffered) more before it closed.
    const resumed = onB.follow(run.runId, seqOf(seen.at(-1)!));
    for await (const f of resumed) seen.push(f);
    const seqs = seen.map(seqOf);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => seqs[0]! + i));
    const last = seen.at(-1);
    expect(last?.type).toBe('agent.message');
    const text = seen.map((f) => (f.type === 'agent.token' ? f.delta : '')).join('');
    if (last?.type === 'agent.message') expect(last.text).toBe(text);
    onB.close();
  });

  test('resume of a finished run replays it whole; another user cannot resume it', async () => {
    const c = new ParleyClient({ url: a.ws, token: token({ sub: 'owner' }), reconnect: false });
    await c.connect();
    const run = await c.chat('short [[tokens:5]]');
    const final = await run.result();
    c.close();
    const other = rawSocket(`${b.ws}?token=${token({ sub: 'intruder' })}`);
    await waitFor(() => other.frames.some((f) => f.type === 'history'));
    other.ws.send(JSON.stringify({ type: 'resume', runId: run.runId, lastSeq: 0 }));
    const err = await waitFor(() => other.frames.find((f) => f.type === 'error'));
    expect(err).toMatchObject({ code: 'not_found', ref: 'resume' });
    other.ws.close();
    const again = new ParleyClient({ url: b.ws, token: token({ sub: 'owner' }), reconnect: false });
    await again.connect();
    const replay = again.follow(run.runId, 0);
    expect((await replay.result()).text).toBe(final.text);
    again.close();
  });

  test('the per-user message rate limit holds across replicas', async () => {
    const onA = new ParleyClient({ url: a.ws, token: token({ sub: 'chatty' }), reconnect: false });
    const onB = new ParleyClient({ url: b.ws, token: token({ sub: 'chatty' }), reconnect: false });
    await Promise.all([onA.connect(), onB.connect()]);
    await onA.chat('1');
    await onB.chat('2');
    await onA.chat('3');
    const err = await onB.chat('4').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'rate_limited' });
    expect((err as { frame: { retryAfterMs: number } }).frame.retryAfterMs).toBeGreaterThan(0);
    onA.close();
    onB.close();
  });

  test('sockets per user are counted across replicas: the third gets 4429', async () => {
    const t = token({ sub: 'many-tabs' });
    const one = rawSocket(`${a.ws}?token=${t}`);
    const two = rawSocket(`${b.ws}?token=${t}`);
    await waitFor(() => one.frames.length > 1 && two.frames.length > 1, { what: 'two sockets up' });
    const three = rawSocket(`${a.ws}?token=${t}`);
    expect((await three.closed).code).toBe(4429);
    one.ws.close();
    await one.closed;
    const four = rawSocket(`${b.ws}?token=${t}`);
    await waitFor(() => four.frames.some((f) => f.type === 'welcome'), { what: 'a slot freed by the closed socket' });
    two.ws.close();
    four.ws.close();
  });

  test('SIGTERM: shutdown frame with the runs to resume, close 1001, and the run finishes on the other replica', async () => {
    const gw = spawnTs(fileURLToPath(new URL('../apps/gateway/src/main.ts', import.meta.url)), {
      ...testRedisEnv(),
      DATABASE_URL: urlForDatabase(db),
      BUS_PREFIX: prefix,
      HTTP_PORT: '0',
      HTTP_HOST: '127.0.0.1',
      AUTH_JWT_SECRET: SECRET,
      LOG_LEVEL: 'info',
      SHUTDOWN_GRACE_MS: '2000',
    });
    await gw.waitForOutput('gateway listening', 20_000);
    const port = /"port":(\d+)/.exec(gw.output())?.[1];
    const c = new ParleyClient({ url: `ws://127.0.0.1:${port}/ws/chat`, token: token({ sub: 'drained' }), reconnect: false });
    const frames: Array<{ type: string }> = [];
    c.onFrame((f) => frames.push(f));
    await c.connect();
    const run = await c.chat('keep going [[slow:20]] [[tokens:50]]');
    const seen: RunFrame[] = [];
    for await (const f of run) {
      seen.push(f);
      if (seen.length === 5) break;
    }
    const exited = gw.kill('SIGTERM');
    await expect(run.result()).rejects.toMatchObject({ code: 1001 });
    const system = frames.find((f) => f.type === 'system') as { event: string; runs: Array<{ runId: string; lastSeq: number }> } | undefined;
    expect(system?.event).toBe('shutdown');
    const handed = system?.runs.find((r) => r.runId === run.runId);
    expect(handed).toBeDefined();
    expect(await exited).toBe(0);

    const onB = new ParleyClient({ url: b.ws, token: token({ sub: 'drained' }), reconnect: false });
    await onB.connect();
    const rest: RunFrame[] = [];
    for await (const f of onB.follow(run.runId, handed!.lastSeq)) rest.push(f);
    expect(rest.at(-1)?.type).toBe('agent.message');
    const all = [...seen, ...rest].map(seqOf);
    expect(new Set(all).size).toBe(all.length);
    onB.close();
  });
});
