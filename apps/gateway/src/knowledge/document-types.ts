/**
 * The allow-list of knowledge document types. A type is taken only when what the caller says (the
 * Content-Type, or the file name's extension when the type is the generic `application/octet-stream`)
 * and what the bytes are agree: a PDF starts with `%PDF-`, a DOCX is a zip, the text types are valid
 * UTF-8. Anything else is a 415 naming the type, before a byte is parsed.
 */
import { ActionError } from '@parley/contracts';

export type DocumentKind = 'pdf' | 'docx' | 'html' | 'markdown' | 'text';

/** Per-file size limits by kind (KNOWLEDGE_MAX_*_BYTES). */
export interface KnowledgeLimits {
  maxBytes: Record<DocumentKind, number>;
  urlTimeoutMs: number;
}

const DOCX_TYPE = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';

const BY_TYPE: Record<string, DocumentKind> = {
  'application/pdf': 'pdf',
  [DOCX_TYPE]: 'docx',
  'text/html': 'html',
  'application/xhtml+xml': 'html',
  'text/markdown': 'markdown',
  'text/x-markdown': 'markdown',
  'text/plain': 'text',
};

const BY_EXTENSION: Record<string, DocumentKind> = {
  pdf: 'pdf',
  docx: 'docx',
  html: 'html',
  htm: 'html',
  md: 'markdown',
  markdown: 'markdown',
  txt: 'text',
};

/** The media types accepted, as a caller reads them in a 415. */
export const ALLOWED_TYPES = Object.keys(BY_TYPE);

/** Generic types that say nothing: the file name's extension decides instead. */
const GENERIC = new Set(['', 'application/octet-stream', 'binary/octet-stream']);

/** `text/html; charset=utf-8` → `text/html`. */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

function unsupported(message: string, type: string): ActionError {
  return new ActionError('unsupported_media_type', message, { details: { type, allowed: ALLOWED_TYPES } });
}

/** The kind the caller declares: by media type, else by the name's extension; a 415 when neither is allowed. */
export function declaredKind(contentType: string | undefined, name: string): DocumentKind {
  const type = mediaType(contentType);
  const byType = BY_TYPE[type];
  if (byType) return byType;
  const ext = /\.([a-z0-9]+)$/i.exec(name)?.[1]?.toLowerCase() ?? '';
  const byExt = GENERIC.has(type) ? BY_EXTENSION[ext] : undefined;
  if (byExt) return byExt;
  const what = GENERIC.has(type) ? `a file ${ext ? `of extension .${ext}` : 'without an extension'} (${type || 'no Content-Type'})` : type;
  throw unsupported(`${what} is not a document type the knowledge base takes; send one of ${ALLOWED_TYPES.join(', ')}`, type);
}

const PDF_MAGIC = Buffer.from('%PDF-');
const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);

/** Whether the bytes are what the declared kind says; a 415 naming both when they are not. */
export function checkBytes(kind: DocumentKind, bytes: Buffer, contentType: string | undefined): void {
  const type = mediaType(contentType) || kind;
  const isPdf = bytes.subarray(0, 1024).includes(PDF_MAGIC);
  const isZip = bytes.subarray(0, 4).equals(ZIP_MAGIC);
  const ok = kind === 'pdf' ? isPdf : kind === 'docx' ? isZip : !isPdf && !isZip && isUtf8Text(bytes);
  if (!ok) throw unsupported(`the content is not ${article(kind)} (it was declared ${type}); send the file with its own type`, type);
}

/** Valid UTF-8. A NUL or lone control character is left to `storable()`, which names the field (400). */
function isUtf8Text(bytes: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

function article(kind: DocumentKind): string {
  return kind === 'pdf' ? 'a PDF' : kind === 'docx' ? 'a DOCX document (a zip)' : `UTF-8 ${kind === 'text' ? 'plain text' : kind}`;
}

/** The 413 for a document over its kind's limit. */
export function tooLarge(kind: DocumentKind, limit: number): ActionError {
  return new ActionError('payload_too_large', `the ${kind} document is larger than ${formatBytes(limit)}, the limit for its type`, {
    details: { kind, limitBytes: limit },
  });
}

function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${+(n / 1024 / 1024).toFixed(1)} MiB` : n >= 1024 ? `${+(n / 1024).toFixed(1)} KiB` : `${n} bytes`;
}
