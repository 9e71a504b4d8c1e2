import { createServer, connect } from 'node:net';

/** Resolves true when nothing listens on host:port (we could bind it). */
export function isPortFree(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

/** A port the OS says is free right now. */
export function freePort(host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Hands out distinct ports, preferring a predictable sequence so URLs stay the same across runs. */
export function portAllocator(start) {
  const taken = new Set();
  return async function next(preferred) {
    for (const candidate of [preferred, ...range(start, start + 200)]) {
      if (candidate && !taken.has(candidate) && (await isPortFree(candidate))) {
        taken.add(candidate);
        return candidate;
      }
    }
    const port = await freePort();
    taken.add(port);
    return port;
  };
}

function range(from, to) {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

/** Resolves true if something accepts TCP connections on host:port within `ms`. */
export function canConnect(host, port, ms = 1000) {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(ms, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
