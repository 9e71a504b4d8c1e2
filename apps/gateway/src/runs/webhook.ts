/**
 * The signed POST a REST run sends to its `webhook` URL when it ends. Only to hosts the operator
 * listed in WEBHOOK_ALLOWED_HOSTS, only over https (http only to a host the operator trusts in
 * OUTBOUND_ALLOW_HOSTS), and through the shared OutboundGuard: the address is checked at connect
 * time, so DNS rebinding between check and connect cannot point it at an internal service.
 *
 * Signature: `X-Parley-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`.
 */
import { createHmac } from 'node:crypto';
import { OutboundGuard, OutboundRefused, hostMatches } from '@parley/service-kit';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../env.js';

export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** How one delivery ended. Only `unreachable` may get better by trying again later. */
export type DeliveryOutcome =
  | { kind: 'delivered'; status: number; attempts: number }
  /** A 4xx other than 408/429: the receiver will answer the same again. */
  | { kind: 'rejected'; status: number; attempts: number }
  /** The address the host resolved to at connect time is one the platform does not call: final. */
  | { kind: 'refused'; reason: string; attempts: number }
  /** Network errors, timeouts, 408, 429 or 5xx on every attempt. */
  | { kind: 'unreachable'; reason: string; attempts: number };

export class WebhookSender {
  private readonly guard: OutboundGuard;

  constructor(
    private readonly cfg: GatewayConfig['webhook'],
    private readonly log: Logger,
  ) {
    this.guard = new OutboundGuard(cfg.outbound);
  }

  /** A reason the URL is refused, or null. */
  check(raw: string): string | null {
    if (!this.cfg.secret) return 'webhooks are not enabled on this gateway (WEBHOOK_SECRET is unset)';
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return 'webhook is not a URL';
    }
    const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    if (!this.cfg.allowedHosts.some((pattern) => hostMatches(pattern, host))) return `webhook host ${host} is not in WEBHOOK_ALLOWED_HOSTS`;
    // Plain http only to a host the operator trusts as internal: the body carries the run's result.
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && this.guard.hostAllowed(host))) return 'webhook must be https';
    const refused = this.guard.check(raw);
    if (refused) return `webhook ${refused}`;
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
        if (err instanceof OutboundRefused) return { kind: 'refused', reason: err.message, attempts: attempt };
        reason = (err as Error).message;
      }
      this.log.warn({ host, attempt, err: reason }, 'webhook delivery failed');
      if (attempt < this.cfg.maxAttempts) await sleep(this.cfg.backoffMs * 2 ** (attempt - 1), signal);
    }
    return { kind: 'unreachable', reason, attempts: this.cfg.maxAttempts };
  }

  private async post(raw: string, body: string, signal: AbortSignal | undefined): Promise<number> {
    const ts = Math.floor(Date.now() / 1000);
    const res = await this.guard.request(raw, {
      method: 'POST',
      body,
      timeoutMs: 10_000,
      maxBodyBytes: 4_096,
      ...(signal ? { signal } : {}),
      headers: { 'content-type': 'application/json', 'user-agent': 'parley-gateway', 'x-parley-signature': signWebhook(this.cfg.secret ?? '', ts, body) },
    });
    return res.status;
  }
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
