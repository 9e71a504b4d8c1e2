/**
 * REST run webhooks delivered through the bus (`channel.webhook.deliver`) by any gateway replica:
 * two gateways share the prefix, the real services run the runs, and the receiver is a local HTTP
 * server. Covers a starting replica that is gone before the run ends, redelivery, retries after a
 * 5xx, a receiver's final 4xx, and a URL the delivering replica does not allow.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createBus, listDeadLetters, type Bus } from '@parley/bus';
import { ActionError, catalog, decodeRunLogEntry, runEventLogKey, runWebhookActionId, type Catalog, type RunResult } from '@parley/contracts';
import { deletePrefix, newRedis, redisUrl, uniquePrefix, waitFor } from '@parley/testing';
import type { Redis } from 'ioredis';
import { startGateway, token, type RunningGateway } from './support/gateway-env.js';
import { usePlatform } from './support/platform.js';

const WEBHOOK_SECRET = 'webhook-secret-0123456789';
const hookVars = { WEBHOOK_SECRET, WEBHOOK_ALLOWED_HOSTS: '127.0.0.1', OUTBOUND_ALLOW_HOSTS: '127.0.0.1', WEBHOOK_BACKOFF_MS: '50' };
const platform = usePlatform('gwhook');
let a: RunningGateway;
let b: RunningGateway;
let caller: Bus<Catalog>;
let redis: Redis;

beforeAll(async () => {
  [a, b] = await Promise.all([startGateway(platform.prefix, hookVars), startGateway(platform.prefix, hookVars)]);
  caller = createBus({ catalog, redis: redisUrl, prefix: platform.prefix, service: 'test' });
  redis = newRedis();
});

afterAll(async () => {
  await Promise.all([a?.close(), b?.close(), caller?.close(500)]);
  redis?.disconnect();
});

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
}

/** A webhook receiver answering each POST with the next status of `statuses` (the last one repeats). */
async function receiver(statuses: number[], delayMs = 0): Promise<{ url: string; received: Received[]; close(): void }> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const status = statuses[Math.min(received.length, statuses.length - 1)] ?? 204;
      received.push({ headers: req.headers, body, status });
      setTimeout(() => res.writeHead(status).end(), delayMs);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/done`, received, close: () => server.close() };
}

/** Delivers a made-up run's result to `url` straight through the bus; the error reply and the dead letter it left. */
async function deliverRefused(url: string): Promise<{ err: unknown; dead: unknown }> {
  const runId = randomUUID();
  const err = await caller
    .call('channel.webhook.deliver', { runId, url, result: result(runId) }, { tenantId: 't1', actionId: runWebhookActionId(runId) }, { timeoutMs: 20_000 })
    .catch((e: unknown) => e);
  const dead = await waitFor(async () => (await listDeadLetters(redis, platform.prefix, 'gateway', 50)).find((d) => d.raw.includes(runId)), {
    what: 'dead letter',
  });
  return { err, dead };
}

function signedBy(secret: string, r: Received): boolean {
  const [t, v1] = String(r.headers['x-parley-signature'])
    .split(',')
    .map((p) => p.split('=')[1]);
  return v1 === createHmac('sha256', secret).update(`${t}.${r.body}`).digest('hex');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const result = (runId: string): RunResult => ({ runId, status: 'SUCCEEDED', conversationId: null, text: 'done' });
const user = token({ sub: 'hook-user', tenant: 't1' });
const headers = { authorization: `Bearer ${user}`, 'content-type': 'application/json' };

describe('run webhooks through the bus', () => {
  test('the webhook arrives, signed, when the gateway that started the run is stopped right after the 202', async () => {
    const hook = await receiver([204]);
    try {
      const res = await fetch(`${a.http}/api/v1/runs`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ input: { text: 'outlive me [[slow:40]] [[tokens:60]]' }, webhook: hook.url }),
      });
      expect(res.status).toBe(202);
      const { runId } = (await res.json()) as { runId: string };
      await a.close();
      // The run has not ended yet (no terminal event in its log): only replica B is left to post its webhook.
      const logged = (await redis.xrange(runEventLogKey(platform.prefix, runId), '-', '+')).flatMap(([, f]) => decodeRunLogEntry(f));
      expect(logged.filter((e) => e.type === 'run.completed' || e.type === 'run.failed')).toEqual([]);

      await waitFor(() => hook.received.length >= 1, { timeoutMs: 30_000, what: 'the webhook from replica B' });
      await sleep(300);
      expect(hook.received).toHaveLength(1);
      const got = hook.received[0]!;
      expect(signedBy(WEBHOOK_SECRET, got)).toBe(true);
      expect(JSON.parse(got.body)).toMatchObject({ type: 'run.finished', runId, result: { runId, status: 'SUCCEEDED', text: expect.any(String) } });
    } finally {
      hook.close();
    }
  });

  test('a redelivered channel.webhook.deliver posts exactly once', async () => {
    const hook = await receiver([204], 300);
    try {
      const runId = randomUUID();
      const data = { runId, url: hook.url, result: result(runId) };
      const meta = { tenantId: 't1', actionId: runWebhookActionId(runId) };
      // The same action twice at once, as agent-execution sends it (a redelivered run sends again):
      // one posts, the other finds the run leased, crashes, is retried by the bus and finds it delivered.
      await Promise.all([caller.send('channel.webhook.deliver', data, meta), caller.send('channel.webhook.deliver', data, meta)]);
      await waitFor(() => redis.exists(`${platform.prefix}:webhook:{run:${runId}}:delivered`), { timeoutMs: 20_000, what: 'the delivered mark' });
      // A replay under another action id (e.g. from the dead letters) is not posted again either.
      expect(
        await caller.call('channel.webhook.deliver', data, { tenantId: 't1', actionId: `${runWebhookActionId(runId)}:replay` }, { timeoutMs: 20_000 }),
      ).toEqual({ posted: false, attempts: 0 });
      await sleep(300);
      expect(hook.received).toHaveLength(1);
      expect(signedBy(WEBHOOK_SECRET, hook.received[0]!)).toBe(true);
    } finally {
      hook.close();
    }
  });

  test('a receiver answering 500 then 200 gets the body once more, and is then done', async () => {
    const hook = await receiver([500, 200]);
    try {
      const runId = randomUUID();
      const reply = await caller.call(
        'channel.webhook.deliver',
        { runId, url: hook.url, result: result(runId) },
        { tenantId: 't1', actionId: runWebhookActionId(runId) },
        { timeoutMs: 20_000 },
      );
      expect(reply).toEqual({ posted: true, attempts: 2, status: 200 });
      await sleep(300);
      expect(hook.received.map((r) => r.status)).toEqual([500, 200]);
      expect(hook.received[1]!.body).toBe(hook.received[0]!.body);
      expect(signedBy(WEBHOOK_SECRET, hook.received[1]!)).toBe(true);
      expect(JSON.parse(hook.received[1]!.body)).toEqual({ type: 'run.finished', runId, result: result(runId) });
    } finally {
      hook.close();
    }
  });

  test("a receiver's 400 is final: not retried, dead-lettered with its status", async () => {
    const hook = await receiver([400]);
    try {
      const { err, dead } = await deliverRefused(hook.url);
      expect(err).toBeInstanceOf(ActionError);
      expect(err).toMatchObject({ code: 'invalid_payload' });
      expect(dead).toMatchObject({ type: 'channel.webhook.deliver', code: 'rejected' });
      await sleep(300);
      expect(hook.received).toHaveLength(1);
    } finally {
      hook.close();
    }
  });

  test('a URL the delivering replica does not allow is refused and never posted', async () => {
    const hook = await receiver([204]);
    try {
      // `localhost` reaches the receiver, but only 127.0.0.1 is in WEBHOOK_ALLOWED_HOSTS here.
      const { err, dead } = await deliverRefused(hook.url.replace('127.0.0.1', 'localhost'));
      expect(err).toMatchObject({ code: 'forbidden' });
      expect((err as Error).message).toContain('WEBHOOK_ALLOWED_HOSTS');
      expect(dead).toMatchObject({ type: 'channel.webhook.deliver', code: 'refused' });
      await sleep(300);
      expect(hook.received).toHaveLength(0);
    } finally {
      hook.close();
    }
  });
});

describe('the outbound-URL guard at connect time', () => {
  test('a host allowed by name that resolves to loopback is refused when connecting: dead-lettered, nothing posted', async () => {
    const prefix = uniquePrefix('gwhookguard');
    // `localhost` passes WEBHOOK_ALLOWED_HOSTS and the URL check (https, a name), but not OUTBOUND_ALLOW_HOSTS;
    // the refusal comes from the lookup, before any connection (so before TLS).
    const gw = await startGateway(prefix, { WEBHOOK_SECRET, WEBHOOK_ALLOWED_HOSTS: 'localhost', WEBHOOK_BACKOFF_MS: '50' });
    const bus = createBus({ catalog, redis: redisUrl, prefix, service: 'test' });
    const hook = await receiver([204]);
    try {
      const runId = randomUUID();
      const url = hook.url.replace('http://127.0.0.1', 'https://localhost');
      expect(gw.gw.ctx.webhooks.check(url)).toBeNull();
      const err = await bus
        .call('channel.webhook.deliver', { runId, url, result: result(runId) }, { tenantId: 't1', actionId: `webhook:${runId}` }, { timeoutMs: 20_000 })
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'forbidden' });
      expect((err as Error).message).toContain('loopback');
      const dead = await waitFor(async () => (await listDeadLetters(redis, prefix, 'gateway', 50)).find((d) => d.raw.includes(runId)), { what: 'dead letter' });
      expect(dead).toMatchObject({ type: 'channel.webhook.deliver', code: 'refused' });
      // Refused on the first attempt, not retried: the receiver never saw a connection.
      expect(hook.received).toHaveLength(0);
    } finally {
      hook.close();
      await bus.close(500);
      await gw.close();
      await deletePrefix(redis, prefix);
    }
  });
});
