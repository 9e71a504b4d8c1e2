/**
 * The request line: logged at info only when someone should read it — a failure (4xx, 5xx) or an
 * answer slower than SLOW_REQUEST_MS. Every other request is counted (parley_gateway_http_responses_total,
 * by route and status class) and logged at debug. The service-kit logger writes each line synchronously
 * to stdout, so a line per request puts a write system call per request on the event loop, and when the
 * reader of the pipe falls behind the writer sleeps 100 ms (sonic-boom's EAGAIN retry): at 500 Chatwoot
 * webhooks/s those lines were the gateway's loop stalls (docs/adr/0005-request-lines-for-failures.md).
 */
export const SLOW_REQUEST_MS = 1_000;

// Probes and scrapes come every few seconds from machines; a line each would drown the log.
const PROBES = new Set(['/healthz', '/readyz', '/metrics']);

export function requestLogLevel(route: string, status: number, ms: number): 'info' | 'debug' {
  if (PROBES.has(route)) return 'debug';
  return status >= 400 || ms >= SLOW_REQUEST_MS ? 'info' : 'debug';
}
