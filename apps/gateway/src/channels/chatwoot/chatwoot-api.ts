/**
 * Chatwoot's REST API as the channel uses it, with retries: exponential backoff with full jitter
 * on 429 (honouring Retry-After), 5xx, timeouts and network errors. Any other 4xx is final: it will
 * not get better by asking again, and the caller dead-letters it with Chatwoot's answer. Every
 * request goes through the shared OutboundGuard: an inbox's baseUrl is a tenant admin's input, and
 * the API token must never be sent to an internal address (OutboundRefused, final, not retried).
 */
import { OutboundRefused, type OutboundGuard } from '@parley/service-kit';
import type { Logger } from 'pino';
import type { InboxSettings } from './config.js';

export class ChatwootRejected extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    readonly path: string,
  ) {
    super(`Chatwoot answered ${status} to ${path}: ${body.slice(0, 500)}`);
  }
}

export class ChatwootUnavailable extends Error {}

export interface RetryPolicy {
  maxAttempts: number;
  backoffMs: number;
  timeoutMs: number;
}

export class ChatwootApi {
  constructor(
    private readonly policy: RetryPolicy,
    private readonly log: Logger,
    private readonly guard: OutboundGuard,
  ) {}

  async postMessage(inbox: InboxSettings, accountId: number, conversationId: number, content: string): Promise<{ id: number | null }> {
    const body = await this.request(inbox, `/api/v1/accounts/${accountId}/conversations/${conversationId}/messages`, {
      content,
      message_type: 'outgoing',
      private: false,
    });
    const id = typeof body === 'object' && body !== null && 'id' in body && typeof body.id === 'number' ? body.id : null;
    return { id };
  }

  /** Cosmetic: one try, never retried, never fatal. */
  async typing(inbox: InboxSettings, accountId: number, conversationId: number, on: boolean): Promise<void> {
    await this.request(
      inbox,
      `/api/v1/accounts/${accountId}/conversations/${conversationId}/toggle_typing_status`,
      { typing_status: on ? 'on' : 'off' },
      1,
    ).catch((err: unknown) => this.log.debug({ err: (err as Error).message, conversationId }, 'typing indicator not set'));
  }

  async setStatus(inbox: InboxSettings, accountId: number, conversationId: number, status: 'open' | 'pending'): Promise<void> {
    await this.request(inbox, `/api/v1/accounts/${accountId}/conversations/${conversationId}/toggle_status`, { status });
  }

  private async request(inbox: InboxSettings, path: string, payload: unknown, maxAttempts = this.policy.maxAttempts): Promise<unknown> {
    let lastError: Error = new ChatwootUnavailable('no attempt made');
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      let retryAfterMs: number | null = null;
      try {
        const res = await this.guard.request(`${inbox.baseUrl}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', api_access_token: inbox.apiToken, 'user-agent': 'parley-gateway' },
          body: JSON.stringify(payload),
          timeoutMs: this.policy.timeoutMs,
        });
        const text = res.body;
        if (res.status >= 200 && res.status < 300) return text ? safeJson(text) : null;
        if (res.status !== 429 && res.status < 500) throw new ChatwootRejected(res.status, text, path);
        const retryAfter = res.headers['retry-after'];
        retryAfterMs = parseRetryAfter(Array.isArray(retryAfter) ? (retryAfter[0] ?? null) : (retryAfter ?? null));
        lastError = new ChatwootUnavailable(`Chatwoot answered ${res.status} to ${path}`);
      } catch (err) {
        if (err instanceof ChatwootRejected || err instanceof OutboundRefused) throw err;
        lastError =
          err instanceof ChatwootUnavailable
            ? err
            : new ChatwootUnavailable(`Chatwoot at ${new URL(inbox.baseUrl).host} is unreachable (${(err as Error).message})`);
      }
      if (attempt < maxAttempts) {
        const cap = this.policy.backoffMs * 2 ** (attempt - 1);
        const delay = Math.min(Math.max(retryAfterMs ?? 0, Math.random() * cap), 30_000);
        this.log.warn({ path, attempt, err: lastError.message, retryInMs: Math.round(delay) }, 'Chatwoot request failed; retrying');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
    throw lastError;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function parseRetryAfter(v: string | null): number | null {
  if (!v) return null;
  const s = Number(v);
  if (Number.isFinite(s)) return s * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - Date.now());
}
