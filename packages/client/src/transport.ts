/**
 * The WebSocket constructor: the platform's own where there is one (browsers, Node ≥ 22, Deno,
 * Bun), else the `ws` package (Node 20). Only the standard WebSocket API is used, so both behave
 * the same.
 */
export interface MinimalWebSocket {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open', listener: () => void): void;
  addEventListener(type: 'message', listener: (ev: { data: unknown }) => void): void;
  addEventListener(type: 'close', listener: (ev: { code: number; reason: string }) => void): void;
  addEventListener(type: 'error', listener: (ev: unknown) => void): void;
}

export type WebSocketCtor = new (url: string) => MinimalWebSocket;

// A variable, so browser bundlers do not try to bundle the Node-only package.
const WS_MODULE = 'ws';

export async function resolveWebSocket(given?: WebSocketCtor): Promise<WebSocketCtor> {
  if (given) return given;
  const native = (globalThis as { WebSocket?: WebSocketCtor }).WebSocket;
  if (native) return native;
  const mod = (await import(/* @vite-ignore */ WS_MODULE)) as { WebSocket: WebSocketCtor };
  return mod.WebSocket;
}

export async function textOf(data: unknown): Promise<string> {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return new TextDecoder().decode(data);
  if (ArrayBuffer.isView(data)) return new TextDecoder().decode(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  if (typeof (data as { text?: unknown }).text === 'function') return (data as { text(): Promise<string> }).text();
  return String(data);
}
