/**
 * A knowledge document fetched from a URL an admin gives: through the OutboundGuard (no private,
 * loopback or metadata address unless the operator allowed it, no redirect followed), the same type
 * allow-list as uploads, and the same per-kind size limit, enforced while reading: a body past the
 * limit is cut off there, whatever its Content-Length said.
 */
import { ActionError } from '@parley/contracts';
import { guardedFetch, OutboundRefused, type OutboundGuard } from '@parley/service-kit';
import { declaredKind, tooLarge, type DocumentKind, type KnowledgeLimits } from './document-types.js';

export interface Fetched {
  kind: DocumentKind;
  contentType: string;
  bytes: Buffer;
  /** The URL's last path segment, the title of last resort. */
  name: string;
}

function badUrl(message: string): ActionError {
  return new ActionError('invalid_payload', `url: ${message}`, { details: { fields: ['url'] } });
}

export async function fetchDocument(guard: OutboundGuard, limits: KnowledgeLimits, url: string, signal?: AbortSignal): Promise<Fetched> {
  const why = await guard.checkResolved(url);
  if (why) throw badUrl(`the URL ${why}`);
  const timeout = AbortSignal.timeout(limits.urlTimeoutMs);
  const both = signal ? AbortSignal.any([signal, timeout]) : timeout;
  let res: Response;
  try {
    res = await guardedFetch(guard)(url, { headers: { accept: 'application/pdf, text/html, text/markdown, text/plain, */*;q=0.5' }, signal: both });
  } catch (err) {
    if (err instanceof OutboundRefused) throw badUrl(err.message);
    if (timeout.aborted) throw badUrl(`${new URL(url).host} did not answer within ${limits.urlTimeoutMs} ms`);
    throw badUrl(`${new URL(url).host} could not be reached (${(err as Error).message})`);
  }
  if (res.status >= 300 && res.status < 400) {
    await res.body?.cancel();
    throw badUrl(`the URL answered a redirect (${res.status}) to ${res.headers.get('location') ?? 'nowhere'}; give the final URL`);
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw badUrl(`the URL answered ${res.status}`);
  }
  const contentType = res.headers.get('content-type') ?? '';
  const name = decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '');
  let kind: DocumentKind;
  try {
    kind = declaredKind(contentType, name);
  } catch (err) {
    await res.body?.cancel();
    throw err;
  }
  const limit = limits.maxBytes[kind];
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > limit) {
    await res.body?.cancel();
    throw tooLarge(kind, limit);
  }
  try {
    return { kind, contentType, bytes: await readAtMost(res, kind, limit), name };
  } catch (err) {
    if (err instanceof ActionError) throw err;
    throw badUrl(
      timeout.aborted
        ? `${new URL(url).host} did not send the document within ${limits.urlTimeoutMs} ms`
        : `reading the document failed (${(err as Error).message})`,
    );
  }
}

/** The body, refused as soon as it passes `limit`: a server that lies about its length cannot make us buffer more. */
async function readAtMost(res: Response, kind: DocumentKind, limit: number): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (!res.body) return Buffer.alloc(0);
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw tooLarge(kind, limit);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}
