/**
 * A raw chat socket for authorization tests: send frames, await the frame that answers them. Every
 * frame is awaited by a predicate, never by a sleep.
 */
import { WebSocket, type RawWs } from './gateway-env.js';

export type Frame = Record<string, unknown> & { type: string };

export interface WsProbe {
  ws: RawWs;
  frames: Frame[];
  /** Resolves with the close code and reason once the server closes the socket. */
  closed: Promise<{ code: number; reason: string }>;
  /** Resolves with the welcome frame, or rejects if the socket closes first. */
  welcome: Promise<Frame>;
  send(frame: Record<string, unknown>): void;
  /** The first frame at or after `from` (an index into `frames`) that matches. */
  next(match: (f: Frame) => boolean, opts?: { from?: number; timeoutMs?: number; what?: string }): Promise<Frame>;
  close(): void;
}

export function wsProbe(url: string): WsProbe {
  const ws = new WebSocket(url);
  const frames: Frame[] = [];
  const waiters = new Set<() => void>();
  ws.on('message', (d) => {
    frames.push(JSON.parse(String(d)) as Frame);
    for (const w of [...waiters]) w();
  });
  ws.on('error', () => {});
  let isClosed = false;
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => {
      isClosed = true;
      resolve({ code, reason: String(reason) });
      for (const w of [...waiters]) w();
    }),
  );
  const next: WsProbe['next'] = (match, opts = {}) =>
    new Promise<Frame>((resolve, reject) => {
      let from = opts.from ?? 0;
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out waiting for ${opts.what ?? 'a frame'}; got ${JSON.stringify(frames.slice(opts.from ?? 0))}`));
      }, opts.timeoutMs ?? 15_000);
      const check = () => {
        for (; from < frames.length; from++) {
          const f = frames[from]!;
          if (match(f)) {
            clearTimeout(timer);
            waiters.delete(check);
            return resolve(f);
          }
        }
        if (isClosed) {
          clearTimeout(timer);
          waiters.delete(check);
          reject(new Error(`socket closed while waiting for ${opts.what ?? 'a frame'}`));
        }
      };
      waiters.add(check);
      check();
    });
  const welcome = next((f) => f.type === 'welcome', { what: 'welcome' });
  welcome.catch(() => {
    /* awaited by the test that needs it; a probe that never gets one must not crash the run */
  });
  return {
    ws,
    frames,
    closed,
    welcome,
    send: (frame) => ws.send(JSON.stringify(frame)),
    next,
    close: () => ws.close(),
  };
}

/** Sends a frame and resolves with the first frame after it that `answer` accepts. */
export async function ask(p: WsProbe, frame: Record<string, unknown>, answer: (f: Frame) => boolean, what?: string): Promise<Frame> {
  const from = p.frames.length;
  p.send(frame);
  return p.next(answer, { from, what: what ?? `an answer to ${String(frame.type)}` });
}
