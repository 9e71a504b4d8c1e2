/**
 * REST calls to the gateway with the session's bearer token, typed by the gateway's OpenAPI document:
 * `client` is openapi-fetch over the generated `paths` (gateway-api.ts), so a path, its parameters, its
 * body and its answer are checked at compile time against what the gateway documents. `unwrap` turns
 * an answer into its data, or throws an ApiError carrying the server's message.
 */
import createClient, { type Middleware } from 'openapi-fetch';
import { session, signOut } from './auth.js';
import type { components, paths } from './gateway-api.js';

export type Schemas = components['schemas'];
type ErrorBody = Schemas['Error']['error'];

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

const auth: Middleware = {
  onRequest({ request }) {
    const token = session.get()?.token;
    if (token) request.headers.set('authorization', `Bearer ${token}`);
    return request;
  },
  async onResponse({ request, response }) {
    // Only for the session that sent it: a request sent without a token, or by a session that ended, signs nobody out.
    // The gateway says which: "your sign-in expired; sign in again" or "invalid token" (forged, or not for this gateway).
    const sent = request.headers.get('authorization')?.replace(/^Bearer /, '');
    if (response.status === 401 && sent) {
      const body: unknown = await response
        .clone()
        .json()
        .catch(() => {
          // A 401 without a JSON body (a proxy's) still signs out, with the generic words.
          return undefined;
        });
      const message = errorOf(body).message;
      signOut(message ? `Signed out: ${message}` : 'Signed out: the gateway refused this sign-in. Sign in again.', sent);
    }
    return response;
  },
};

/** The page's own origin: the gateway serves the UI, so the API is same-origin. */
export const client = createClient<paths>({ baseUrl: globalThis.location?.origin ?? '' });
client.use(auth);

/** The answer's data; a refusal throws ApiError with the gateway's code, message and request id. */
export async function unwrap<D>(pending: Promise<{ data?: D; error?: unknown; response: Response }>): Promise<D> {
  const { data, error, response } = await pending;
  if (response.ok) return data as D;
  // Every gateway error is `{ error: { code, message, retryable, requestId, details? } }` (components.schemas.Error).
  const e = errorOf(error);
  throw new ApiError(
    response.status,
    e.code ?? `http_${response.status}`,
    e.message ?? `${response.url} answered ${response.status}`,
    e.requestId ?? response.headers.get('x-request-id') ?? undefined,
    e.details,
  );
}

function errorOf(data: unknown): Partial<ErrorBody> {
  const error = typeof data === 'object' && data !== null && 'error' in data ? (data as { error: unknown }).error : data;
  return typeof error === 'object' && error !== null ? (error as Partial<ErrorBody>) : {};
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
