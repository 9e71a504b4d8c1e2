/**
 * An upload request → the `query.ingest_document` input, and the hash that names the request for
 * its Idempotency-Key. Three forms: JSON text (`{title, text | markdown}`), JSON `{url}` (fetched
 * through the outbound guard), and a multipart file. Files and fetched documents pass the type
 * allow-list and their kind's size limit, then have their text extracted here at the edge, so the
 * bus carries text only and a refused document never reaches the query service.
 */
import { createHash } from 'node:crypto';
import { ActionError, Id, IngestDocument, KnowledgeLanguage, storable, storableJson } from '@parley/contracts';
import type { OutboundGuard } from '@parley/service-kit';
import type { FastifyRequest } from 'fastify';
import { stringify } from 'safe-stable-stringify';
import { z } from 'zod';
import { parse } from '../rest/errors.js';
import { checkBytes, declaredKind, tooLarge, type KnowledgeLimits } from './document-types.js';
import { extractDocument } from './extract.js';
import { fetchDocument } from './url-source.js';

/** `{url}`: a document fetched from the web; its title comes from the document unless given. */
export const IngestUrl = z.object({
  url: storable(z.string().min(1).max(2048)),
  title: storable(z.string().min(1).max(512)).optional(),
  knowledgeBaseId: Id.optional(),
  language: KnowledgeLanguage.optional(),
  metadata: storableJson(z.record(z.string(), z.unknown())).optional(),
});
export type IngestUrl = z.infer<typeof IngestUrl>;

export interface UploadDeps {
  guard: OutboundGuard;
  limits: KnowledgeLimits;
}

export interface Upload {
  input: IngestDocument;
  /** Names the request (not the extracted text): the same body under one Idempotency-Key is the same upload. */
  hash: string;
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** The largest file any kind accepts: multipart stops reading past it before the kind is known. */
export function largestLimit(limits: KnowledgeLimits): number {
  return Math.max(...Object.values(limits.maxBytes));
}

export async function readUpload(deps: UploadDeps, req: FastifyRequest): Promise<Upload> {
  if (req.isMultipart()) return fromMultipart(deps, req);
  const body = req.body;
  const hash = sha256(stringify(body) ?? '');
  if (typeof body === 'object' && body !== null && 'url' in body) return { input: await fromUrl(deps, parse(IngestUrl, body)), hash };
  return { input: parse(IngestDocument, body), hash };
}

async function fromUrl(deps: UploadDeps, req: IngestUrl): Promise<IngestDocument> {
  const fetched = await fetchDocument(deps.guard, deps.limits, req.url);
  checkBytes(fetched.kind, fetched.bytes, fetched.contentType);
  const doc = await extractDocument(fetched.kind, fetched.bytes);
  const { url, ...fields } = req;
  return parse(IngestDocument, { ...fields, title: req.title ?? doc.title ?? (fetched.name || url), source: url, ...doc.body });
}

/** One `file` part plus optional text fields title, source, knowledgeBaseId, language. */
async function fromMultipart(deps: UploadDeps, req: FastifyRequest): Promise<Upload> {
  const fields: Record<string, string> = {};
  let file: { name: string; type: string; bytes: Buffer } | undefined;
  try {
    for await (const part of req.parts()) {
      if (part.type === 'file') file = { name: part.filename, type: part.mimetype, bytes: await part.toBuffer() };
      else if (typeof part.value === 'string') fields[part.fieldname] = part.value;
    }
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'FST_REQ_FILE_TOO_LARGE')
      throw new ActionError('payload_too_large', `the file is larger than ${largestLimit(deps.limits)} bytes, the largest any document type may be`);
    if (code?.startsWith('FST_')) throw new ActionError('invalid_payload', `unreadable multipart body: ${(err as Error).message}`);
    throw err;
  }
  const hash = sha256(stringify({ fields, file: file ? { name: file.name, type: file.type, bytes: sha256(file.bytes) } : null }) ?? '');
  if (!file) return { input: parse(IngestDocument, fields), hash }; // a form without a file may still carry `text`
  const kind = declaredKind(file.type, file.name);
  if (file.bytes.length > deps.limits.maxBytes[kind]) throw tooLarge(kind, deps.limits.maxBytes[kind]);
  checkBytes(kind, file.bytes, file.type);
  const doc = await extractDocument(kind, file.bytes);
  const input = parse(IngestDocument, {
    ...fields,
    title: fields.title ?? doc.title ?? file.name,
    source: fields.source ?? `upload:${file.name}`,
    ...doc.body,
  });
  return { input, hash };
}
