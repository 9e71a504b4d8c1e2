import type { Handler } from '@parley/bus';
import { ActionError, type Catalog } from '@parley/contracts';
import { toInfo } from '../domain/ingest.js';
import type { QueryDeps } from '../domain/ports.js';

interface Cursor {
  createdAt: string;
  id: string;
}

/** Opaque to callers: the keyset of the last item of the previous page. */
export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify([c.createdAt, c.id])).toString('base64url');
}

export function decodeCursor(raw: string): Cursor {
  try {
    const v: unknown = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
    if (
      Array.isArray(v) &&
      v.length === 2 &&
      typeof v[0] === 'string' &&
      typeof v[1] === 'string' &&
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$/.test(v[0])
    ) {
      return { createdAt: v[0], id: v[1] };
    }
  } catch {
    // falls through to the error below
  }
  throw new ActionError('invalid_payload', 'cursor is not one this service returned; start again without a cursor', { details: { field: 'cursor' } });
}

export const listDocumentsHandler =
  (deps: QueryDeps): Handler<Catalog, 'query.list_documents'> =>
  async (data, ctx) => {
    const after = data.cursor ? decodeCursor(data.cursor) : undefined;
    // One extra row tells whether there is a next page without a count query.
    const rows = await deps.documents.listDocuments(ctx.action.tenantId, { knowledgeBaseId: data.knowledgeBaseId, limit: data.limit + 1, after });
    const page = rows.slice(0, data.limit);
    const last = page.at(-1);
    return {
      items: page.map((d) => toInfo(d)),
      // Microsecond timestamps would be lost in a JS Date, so the keyset uses the database's text form.
      nextCursor: rows.length > data.limit && last ? encodeCursor({ createdAt: last.createdAtText, id: last.id }) : null,
    };
  };
