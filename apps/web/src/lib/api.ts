/** REST calls to the gateway's /api/v1 with the session's bearer token; errors carry the server's message. */
import { session, signOut } from './auth.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The gateway's x-request-id of the refused request: what an operator finds its log lines by. */
    readonly requestId?: string,
    /** The gateway's `details`, e.g. `{ fields: ['agentId'] }` naming the inputs it refused. */
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const token = session.get()?.token;
  const headers: Record<string, string> = {};
  if (token) headers['authorization'] = `Bearer ${token}`;
  const init: RequestInit = { method, headers };
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(`/api/v1${path}`, init);
  const text = await res.text();
  const data = text ? safeJson(text) : undefined;
  if (!res.ok) {
    // Every gateway error is `{ error: { code, message, retryable, requestId, details? } }` (contracts RestErrorBody).
    const e = errorOf(data);
    // Only for the session that sent it: a request sent without a token, or by a session that ended, signs nobody out.
    // The gateway says which: "your sign-in expired; sign in again" or "invalid token" (forged, or not for this gateway).
    if (res.status === 401 && token) signOut(e.message ? `Signed out: ${e.message}` : 'Signed out: the gateway refused this sign-in. Sign in again.', token);
    throw new ApiError(
      res.status,
      e.code ?? `http_${res.status}`,
      e.message ?? `${method} ${path} answered ${res.status}`,
      e.requestId ?? res.headers.get('x-request-id') ?? undefined,
      typeof e.details === 'object' && e.details !== null ? (e.details as Record<string, unknown>) : undefined,
    );
  }
  return data as T;
}

export const get = <T>(path: string) => api<T>('GET', path);

/** `?a=1&b=2` without the empty values. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

type ErrorFields = { code?: string; message?: string; requestId?: string; details?: unknown };

function errorOf(data: unknown): ErrorFields {
  const error = typeof data === 'object' && data !== null && 'error' in data ? (data as { error: unknown }).error : data;
  return typeof error === 'object' && error !== null ? (error as ErrorFields) : {};
}

/** What a person reads when a request failed: the gateway's message and, for support, its request id. */
export function errorText(err: unknown): string {
  if (err instanceof ApiError) return err.requestId ? `${err.message} (reference ${err.requestId})` : err.message;
  return err instanceof Error ? err.message : String(err);
}

/** The input names a refused request's `details.fields` lists. */
export function refusedFields(err: unknown): string[] {
  const fields = err instanceof ApiError ? err.details?.['fields'] : undefined;
  return Array.isArray(fields) ? fields.filter((f): f is string => typeof f === 'string') : [];
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { message: text.slice(0, 200) };
  }
}
