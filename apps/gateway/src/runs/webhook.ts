/**
 * The signed POST a REST run sends to its `webhook` URL when it ends. Only to hosts the operator
 * allow-listed, and never to private, loopback or link-local addresses unless configured: the
 * address is checked at connect time (inside `lookup`), so DNS rebinding between check and
 * connect cannot point it at an internal service.
 *
 * Signature: `X-Parley-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`.
 */
import { createHmac } from 'node:crypto';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP } from 'node:net';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../env.js';

const blocked = new BlockList();
for (const [net, bits] of [['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.168.0.0', 16], ['224.0.0.0', 3]] as const) {
  blocked.addSubnet(net, bits, 'ipv4');
}
for (const [net, bits] of [['::', 127], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8]] as const) blocked.addSubnet(net, bits, 'ipv6');

export function isPrivateAddress(address: string): boolean {
  const v4mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (v4mapped?.[1]) return blocked.check(v4mapped[1], 'ipv4');
  const family = isIP(address);
  if (family === 0) return true;
  return blocked.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** How one delivery ended. Only `unreachable` may get better by trying again later. */
export type DeliveryOutcome =
  | { kind: 'delivered'; status: number; attempts: number }
  /** A 4xx other than 408/429: the receiver will answer the same again. */
  | { kind: 'rejected'; status: number; attempts: number }
  /** Network errors, timeouts, 408, 429 or 5xx on every attempt. */
  | { kind: 'unreachable'; reason: string; attempts: number };

export class WebhookSender {
  constructor(
    private readonly cfg: GatewayConfig['webhook'],
    private readonly log: Logger,
  ) {}

  /** A reason the URL is refused, or null. */
  check(raw: string): string | null {
    if (!this.cfg.secret) return 'webhooks are not enabled on this gateway (WEBHOOK_SECRET is unset)';
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return 'webhook is not a URL';
    }
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && this.cfg.allowPrivate)) return 'webhook must be https';
    if (url.username || url.password) return 'webhook URLs cannot carry credentials';
    const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    if (!this.cfg.allowedHosts.some((pattern) => hostMatches(pattern, host))) return `webhook host ${host} is not in WEBHOOK_ALLOWED_HOSTS`;
    if (isIP(host) && isPrivateAddress(host) && !this.cfg.allowPrivate) return 'webhook points at a private or loopback address';
    return null;
  }

  /**
   * POSTs `payload`, retrying network errors, timeouts, 408, 429 and 5xx with exponential backoff
   * up to WEBHOOK_MAX_ATTEMPTS. Any other 4xx is the receiver's final answer and is not retried.
   * Never throws for the receiver's sake; only `signal` (shutdown) interrupts it.
   */
  async deliver(url: string, payload: unknown, signal?: AbortSignal): Promise<DeliveryOutcome> {
    const body = JSON.stringify(payload);
    const host = new URL(url).host;
    let reason = 'no attempt made';
    for (let attempt = 1; attempt <= this.cfg.maxAttempts; attempt++) {
      signal?.throwIfAborted();
      try {
        const status = await this.post(url, body, signal);
        if (status >= 200 && status < 300) return { kind: 'delivered', status, attempts: attempt };
        if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
          this.log.warn({ status, host }, 'webhook refused by its receiver; not retrying');
          return { kind: 'rejected', status, attempts: attempt };
        }
        reason = `the receiver answered ${status}`;
      } catch (err) {
        signal?.throwIfAborted();
        reason = (err as Error).message;
      }
      this.log.warn({ host, attempt, err: reason }, 'webhook delivery failed');
      if (attempt < this.cfg.maxAttempts) await sleep(this.cfg.backoffMs * 2 ** (attempt - 1), signal);
    }
    return { kind: 'unreachable', reason, attempts: this.cfg.maxAttempts };
  }

  private post(raw: string, body: string, signal: AbortSignal | undefined): Promise<number> {
    const url = new URL(raw);
    const secret = this.cfg.secret ?? '';
    const ts = Math.floor(Date.now() / 1000);
    const allowPrivate = this.cfg.allowPrivate;
    const lookup = (hostname: string, options: { all?: boolean }, cb: (...args: unknown[]) => void) => {
      dnsLookup(hostname, { all: true }, (err, addresses: LookupAddress[]) => {
        if (err) return cb(err);
        const ok = allowPrivate ? addresses : addresses.filter((a) => !isPrivateAddress(a.address));
        if (ok.length === 0) return cb(new Error(`webhook host ${hostname} resolves only to private addresses`));
        if (options.all) return cb(null, ok);
        const first = ok[0] as LookupAddress;
        cb(null, first.address, first.family);
      });
    };
    const mod = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = mod.request(
        url,
        {
          method: 'POST',
          lookup: lookup as never,
          timeout: 10_000,
          ...(signal ? { signal } : {}),
          headers: { 'content-type': 'application/json', 'user-agent': 'parley-gateway', 'x-parley-signature': signWebhook(secret, ts, body) },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('timeout', () => req.destroy(new Error('webhook timed out')));
      req.on('error', reject);
      req.end(body);
    });
  }
}

function hostMatches(pattern: string, host: string): boolean {
  if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1;
  return pattern === host;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }
    function onAbort() {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
