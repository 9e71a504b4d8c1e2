// One simulated user: a token from the dev token route, one WebSocket through @parley/client, then
// conversations of several turns with think time, until the deadline.
import { randomUUID } from 'node:crypto';
import { ClientClosedError, ParleyClient, RunFailedError, ServerError, type RunStream, type WebSocketCtor } from '../../packages/client/src/index.js';
import { conversation } from './script.js';
import type { LoadStats } from './stats.js';

export interface Accepted {
  id: string;
  runId: string;
  conversationId: string;
  userId: string;
  tenantId: string;
}

export interface UserOptions {
  /** Gateway base URL (http), for the dev token. */
  http: string | (() => string);
  /** WebSocket URL of /ws/chat. */
  ws: string;
  userId: string;
  tenantId: string;
  /** performance.now() after which no new turn starts. */
  deadline: number;
  /** performance.now() after which an unfinished turn is given up. */
  hardDeadline: number;
  thinkMs: [number, number];
  stats: LoadStats;
  WebSocket?: WebSocketCtor;
  onAccepted?: (a: Accepted) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** The dev token, retried for a while: under chaos the gateway asked may be the one just killed. */
export async function devToken(http: string | (() => string), userId: string, tenantId: string, tries = 20): Promise<string> {
  let last = '';
  for (let i = 0; i < tries; i++) {
    const base = typeof http === 'function' ? http() : http;
    try {
      const res = await fetch(`${base}/api/v1/dev/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ userId, tenantId, roles: [], ttlSeconds: 3600 }),
        signal: AbortSignal.timeout(5000),
      });
      const body = (await res.json()) as { token?: string; message?: string };
      if (res.ok && body.token) return body.token;
      last = `${res.status} ${body.message ?? ''}`;
      if (res.status === 403) break; // dev tokens are off: retrying will not turn them on
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(500);
  }
  throw new Error(
    `no dev token from ${typeof http === 'function' ? http() : http} (${last}); start the platform with PARLEY_MODE=dev AUTH_DEV_TOKENS=true AUTH_JWT_SECRET=… or use --start`,
  );
}

/** Rejects with `turn timeout` (counted as `timeout`) when `p` has not settled within `ms`. */
function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('turn timeout')), ms)));
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

export function errorCode(err: unknown): string {
  if (err instanceof ServerError) return err.code;
  if (err instanceof RunFailedError) return `run_${err.code}`;
  if (err instanceof ClientClosedError) return `closed_${err.code}`;
  if (err instanceof Error && err.message === 'turn timeout') return 'timeout';
  return (err as Error)?.name ?? 'unknown';
}

async function oneTurn(client: ParleyClient, text: string, o: UserOptions): Promise<void> {
  const t0 = performance.now();
  o.stats.started++;
  const id = randomUUID();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('turn timeout')), Math.max(1000, o.hardDeadline - t0));
  });
  try {
    const run: RunStream = await Promise.race([client.chat(text, { id }), timeout]);
    o.stats.acceptMs.push(performance.now() - t0);
    o.onAccepted?.({ id, runId: run.runId, conversationId: run.conversationId ?? client.conversationId ?? '', userId: o.userId, tenantId: o.tenantId });
    let first: number | undefined;
    let tool = false;
    const consume = (async () => {
      for await (const f of run) {
        if (f.type === 'agent.token' && first === undefined) first = performance.now() - t0;
        if (f.type === 'agent.step' && f.kind === 'tool_call') tool = true;
      }
      return run.result();
    })();
    await Promise.race([consume, timeout]);
    o.stats.done(performance.now() - t0, first, tool);
  } catch (err) {
    o.stats.error(errorCode(err));
  } finally {
    clearTimeout(timer);
  }
}

export async function runUser(o: UserOptions): Promise<void> {
  let client: ParleyClient | undefined;
  try {
    const token = await devToken(o.http, o.userId, o.tenantId);
    const fresh = () => new ParleyClient({ url: o.ws, token: () => token, ...(o.WebSocket ? { WebSocket: o.WebSocket } : {}) });
    client = fresh();
    // Under chaos the gateway may be down, or accept the socket and die before its welcome: a
    // connect that does not settle in 10 s is abandoned for a fresh client.
    for (let i = 0; ; i++) {
      try {
        await withTimeout(client.connect(), 10_000);
        break;
      } catch (err) {
        if (i >= 20 || performance.now() > o.deadline) throw err;
        client.close();
        client = fresh();
        await sleep(500);
      }
    }
    // Bounded: every turn takes at least its think time or ends at the deadline.
    for (let conv = 0; conv < 10_000 && performance.now() < o.deadline; conv++) {
      if (conv > 0) {
        try {
          await withTimeout(client.newConversation(), 10_000);
        } catch (err) {
          o.stats.error(`new_conversation_${errorCode(err)}`);
          await sleep(1000);
          continue;
        }
      }
      for (const turn of conversation()) {
        if (performance.now() >= o.deadline) break;
        const failedBefore = o.stats.failed();
        await oneTurn(client, turn.text, o);
        const [min, max] = o.thinkMs;
        // After a failure, at least a short pause: a closed client fails at once and must not spin.
        const pause = Math.max(min + Math.random() * (max - min), o.stats.failed() > failedBefore ? 250 : 0);
        await sleep(Math.min(pause, o.deadline - performance.now()));
      }
    }
  } catch (err) {
    o.stats.error(`user_${errorCode(err)}`);
  } finally {
    client?.close();
  }
}
