// PostgreSQL "restart" without a throwaway cluster: the services reach the shared PostgreSQL through
// this TCP proxy, which the chaos run cuts (every open connection reset, new ones refused) for a few
// seconds. To the services that is what a restart looks like; the shared server is never touched.
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface PgProxy {
  port: number;
  cut(ms: number): Promise<void>;
  close(): Promise<void>;
}

export async function startPgProxy(target: { host: string; port: number }): Promise<PgProxy> {
  const open = new Set<Socket>();
  let down = false;
  const server: Server = createServer((client) => {
    if (down) return void client.destroy();
    const upstream = connect(target);
    open.add(client);
    open.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  return {
    port: typeof addr === 'object' && addr ? addr.port : 0,
    async cut(ms) {
      down = true;
      for (const s of open) s.destroy();
      open.clear();
      await new Promise((r) => setTimeout(r, ms));
      down = false;
    },
    async close() {
      for (const s of open) s.destroy();
      await new Promise((r) => server.close(() => r(undefined)));
    },
  };
}
