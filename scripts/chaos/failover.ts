// Clients of the chaos run connect to whichever gateway is up, as they would behind a load balancer:
// a WebSocket constructor for @parley/client that rewrites the port of every (re)connect.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { WebSocketCtor } from '../../packages/client/src/index.js';
import type { Replica } from './services.js';

// `ws` comes from the client package: the root has no dependency of its own on it.
const clientPkg = fileURLToPath(new URL('../../packages/client/package.json', import.meta.url));
const WsBase = createRequire(clientPkg)('ws').WebSocket as new (url: string) => object;

export function livePicker(gateways: Replica[]): () => Replica {
  let n = 0;
  return () => {
    const live = gateways.filter((g) => g.up);
    const from = live.length ? live : gateways;
    return from[n++ % from.length]!;
  };
}

export function failoverWebSocket(pick: () => Replica): WebSocketCtor {
  class FailoverWebSocket extends WsBase {
    constructor(url: string) {
      const u = new URL(url);
      u.port = String(pick().port);
      super(u.toString());
    }
  }
  return FailoverWebSocket as unknown as WebSocketCtor;
}
