import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import type { ClientOptions } from 'openai';

export type Fetch = NonNullable<ClientOptions['fetch']>;

// Statuses whose response has no body by definition; `new Response` refuses a body for them.
const NULL_BODY = new Set([101, 204, 205, 304]);

function plainHeaders(init: RequestInit | undefined, body: string | null): Record<string, string> {
  const out: Record<string, string> = {};
  new Headers(init?.headers).forEach((value, name) => {
    out[name] = value;
  });
  if (body !== null) out['content-length'] = String(Buffer.byteLength(body));
  return out;
}

function responseHeaders(raw: readonly string[]): Headers {
  const headers = new Headers();
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i] ?? '', raw[i + 1] ?? '');
  return headers;
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new DOMException('This operation was aborted', 'AbortError');
}

/**
 * The SDK's `fetch`, on node:http(s) with a keep-alive Agent per model client, because the built-in
 * fetch (undici's WHATWG layer) costs about half a millisecond and as much CPU per call before the
 * first token (measured, see the README). The SDK keeps every other job: retries, timeouts, SSE, errors.
 *
 * Only what the SDK sends for chat and embeddings takes this path (no body or a string body); anything
 * else (FormData uploads, streamed bodies) goes to the global fetch unchanged. Redirects are not
 * followed: an API that answers a POST with 3xx gets the status back as an error, not a silent GET.
 * No compression is asked for, so servers send identity bodies and an SSE stream never waits in a
 * decompressor's buffer. Idle sockets are unref'd by the Agent, so nothing here holds a process open.
 */
export function createHttpFetch(): Fetch {
  const httpAgent = new http.Agent({ keepAlive: true });
  const httpsAgent = new https.Agent({ keepAlive: true });

  function send(url: URL, init: RequestInit | undefined, body: string | null): Promise<Response> {
    const signal = init?.signal ?? undefined;
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    const secure = url.protocol === 'https:';
    return new Promise<Response>((resolve, reject) => {
      let response: IncomingMessage | undefined;
      const options = { method: init?.method ?? 'GET', headers: plainHeaders(init, body), agent: secure ? httpsAgent : httpAgent };
      const request = (secure ? https : http).request(url, options, (res) => {
        response = res;
        const status = res.statusCode ?? 0;
        const hasBody = !NULL_BODY.has(status) && options.method !== 'HEAD';
        if (!hasBody) res.resume();
        try {
          // Readable.toWeb: Node's own adapter, with backpressure; cancelling it destroys the socket.
          resolve(
            new Response(hasBody ? (Readable.toWeb(res) as ReadableStream<Uint8Array>) : null, {
              status,
              statusText: res.statusMessage ?? '',
              headers: responseHeaders(res.rawHeaders),
            }),
          );
        } catch (err) {
          // A status outside 200–599 cannot be a Response; the SDK reports this as a connection error.
          res.destroy();
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
      // As fetch does: an abort rejects with the signal's AbortError, before the headers and during the
      // body alike, which is what the SDK recognises as a cancel (or its own timeout). The socket closes.
      const onAbort = (): void => {
        const reason = abortReason(signal as AbortSignal);
        response?.destroy(reason);
        request.destroy(reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      request.once('close', () => signal?.removeEventListener('abort', onAbort));
      request.once('error', reject);
      request.end(body ?? undefined);
    });
  }

  return (input, init) => {
    const body = init?.body;
    if (input instanceof Request || (body !== undefined && body !== null && typeof body !== 'string')) return globalThis.fetch(input, init);
    return send(new URL(input), init, body ?? null);
  };
}
