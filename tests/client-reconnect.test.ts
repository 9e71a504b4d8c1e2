// @parley/client across dropped sockets, against a real gateway and the real services: every
// request settles — answered once a socket is back, or rejected with a clear error — never hangs.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createTestDatabase, deletePrefix, dropTestDatabase, newRedis, uniquePrefix, urlForDatabase, waitFor } from '@parley/testing';
import {
  ClientClosedError,
  ClientOfflineError,
  ParleyClient,
  RequestTimeoutError,
  type ParleyClientOptions,
  type WebSocketCtor,
} from '../packages/client/src/index.js';
import { startGateway, startServices, token, WebSocket, type RawWs, type RunningGateway, type Services } from './support/gateway-env.js';

let prefix: string;
let db: string;
let services: Services;
const gateways: RunningGateway[] = [];

beforeAll(async () => {
  prefix = uniquePrefix('clientrc');
  db = await createTestDatabase();
  services = await startServices(prefix, urlForDatabase(db));
});

afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close()));
  await services?.stop();
  const r = newRedis();
  await deletePrefix(r, prefix);
  r.disconnect();
  await dropTestDatabase(db);
});

/** A gateway of this test; `port` reuses the port of one that was stopped. */
async function gateway(port?: string): Promise<RunningGateway> {
  const g = await startGateway(prefix, port ? { HTTP_PORT: port } : {});
  gateways.push(g);
  return g;
}
const portOf = (g: RunningGateway) => new URL(g.http).port;

/** A client whose sockets the test can reach, to cut them under it. */
function client(g: RunningGateway, sub: string, extra: Partial<ParleyClientOptions> = {}) {
  const sockets: RawWs[] = [];
  const Ctor = class extends WebSocket {
    constructor(url: string) {
      super(url);
      sockets.push(this);
    }
  } as unknown as WebSocketCtor;
  const c = new ParleyClient({ url: g.ws, token: () => token({ sub }), reconnect: { minDelayMs: 20, maxDelayMs: 200 }, WebSocket: Ctor, ...extra });
  return { c, sockets };
}

/** Settles the promise into a value, so a test can hold it while it is still pending. */
function outcome<T>(p: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  return p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

describe('@parley/client: requests across dropped sockets (real gateway and services)', () => {
  test('history.get and conversation.new sent while the gateway is down are answered by the one started on its port', async () => {
    const first = await gateway();
    const { c } = client(first, 'rc-queue');
    const { welcome } = await c.connect();
    const answer = await (await c.chat('remember me [[tokens:3]]')).result();

    await first.close(); // 1001 to every socket; the port refuses connections until the next gateway
    const history = outcome(c.history({ conversationId: welcome.conversationId }));
    const fresh = outcome(c.newConversation());
    const ping = outcome(c.ping());
    await gateway(portOf(first));

    const h = await history;
    const n = await fresh;
    expect(h.ok && h.value.messages.map((m) => [m.role, m.content])).toEqual([
      ['user', 'remember me [[tokens:3]]'],
      ['assistant', answer.text],
    ]);
    expect(n.ok && n.value.messages).toEqual([]);
    expect(n.ok && n.value.conversationId).not.toBe(welcome.conversationId);
    expect((await ping).ok).toBe(true);
    c.close();
  });

  test('a request whose socket drops before the answer is sent again on the next socket', async () => {
    const g = await gateway();
    const { c, sockets } = client(g, 'rc-inflight');
    const { welcome } = await c.connect();

    const history = outcome(c.history({ conversationId: welcome.conversationId }));
    const fresh = outcome(c.newConversation());
    sockets.at(-1)?.terminate(); // written to the socket, cut before any answer can be read
    const h = await history;
    const n = await fresh;
    expect(h.ok && h.value.conversationId).toBe(welcome.conversationId);
    expect(n.ok && n.value.messages).toEqual([]);
    expect(sockets.length).toBeGreaterThan(1);
    c.close();
  });

  test('a queued request times out with RequestTimeoutError when no gateway comes back', async () => {
    const g = await gateway();
    const { c } = client(g, 'rc-timeout', { requestTimeoutMs: 500 });
    const { welcome } = await c.connect();
    await g.close();
    const h = await outcome(c.history({ conversationId: welcome.conversationId }));
    expect(h.ok).toBe(false);
    expect(!h.ok && h.error).toBeInstanceOf(RequestTimeoutError);
    c.close();
  });

  test('queued requests are rejected with ClientClosedError when the client gives up reconnecting', async () => {
    const g = await gateway();
    const { c } = client(g, 'rc-giveup', { reconnect: { minDelayMs: 20, maxDelayMs: 50, maxAttempts: 2 } });
    const { welcome } = await c.connect();
    await g.close();
    const r = await outcome(c.history({ conversationId: welcome.conversationId }));
    expect(!r.ok && r.error).toBeInstanceOf(ClientClosedError);
    // Once given up, a new request fails at once rather than waiting for its timeout.
    const after = await outcome(c.newConversation());
    expect(!after.ok && after.error).toBeInstanceOf(ClientClosedError);
  });

  test('without reconnect, a request in flight when the socket drops is rejected', async () => {
    const g = await gateway();
    const { c, sockets } = client(g, 'rc-noreconnect', { reconnect: false });
    const { welcome } = await c.connect();
    const r = outcome(c.history({ conversationId: welcome.conversationId }));
    sockets.at(-1)?.terminate();
    const settled = await r;
    expect(!settled.ok && settled.error).toBeInstanceOf(ClientClosedError);
  });

  test('the offline queue is bounded: past maxQueuedRequests a request fails at once with ClientOfflineError', async () => {
    const first = await gateway();
    const { c, sockets } = client(first, 'rc-bound', { maxQueuedRequests: 2 });
    await c.connect();
    const socket = sockets.at(-1);
    await first.close();
    // The 1001 close may still be on its way: wait until the client has seen it (ws emits 'close' as it sets CLOSED).
    await waitFor(() => socket?.readyState === WebSocket.CLOSED, { what: 'the client socket closed' });
    const queued = [outcome(c.ping()), outcome(c.ping())];
    const third = await outcome(c.ping());
    expect(!third.ok && third.error).toBeInstanceOf(ClientOfflineError);
    await gateway(portOf(first));
    for (const q of queued) expect((await q).ok).toBe(true);
    c.close();
  });
});
