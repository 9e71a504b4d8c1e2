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

/**
 * Hands out the launcher's ports: `base`, `base + 1`, … in a stable order, so URLs survive restarts;
 * `base` 0 takes every port from the OS. A stable port that is taken is not skipped (that would move
 * a service's URL without a word): it is recorded in `busy` for the launcher to report.
 */
export function portPlan(base) {
  const given = new Set();
  const busy = [];
  let offset = 0;
  async function take(label, fixed) {
    const port = fixed ?? (base === 0 ? 0 : base + offset++);
    if (port === 0) {
      let p;
      do p = await freePort();
      while (given.has(p));
      given.add(p);
      return p;
    }
    given.add(port);
    if (!(await isPortFree(port))) busy.push({ port, label });
    return port;
  }
  return { take, busy };
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
