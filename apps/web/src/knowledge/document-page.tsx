import type { JSX } from 'preact';
import { useEffect } from 'preact/hooks';
import { client, unwrap } from '../lib/api.js';
import { sectionPath } from '../lib/format.js';
import { useAsync } from '../lib/use-async.js';

/**
 * One knowledge document, passage by passage, for any signed-in user of the tenant: where a chat
 * citation (`#/knowledge/<documentId>?chunk=<n>`) leads. The cited passage is marked and scrolled to.
 */
export function DocumentPage({ documentId, chunk }: { documentId: string; chunk: number | undefined }): JSX.Element {
  const doc = useAsync(() => unwrap(client.GET('/api/v1/knowledge/documents/{id}', { params: { path: { id: documentId } } })), [documentId]);
  useEffect(() => {
    if (doc.data && chunk !== undefined) document.getElementById(`passage-${chunk}`)?.scrollIntoView({ block: 'center' });
  }, [doc.data, chunk]);
  if (doc.error)
    return (
      <p role="alert" class="error">
        {doc.error.message}
      </p>
    );
  if (!doc.data) return <p class="muted">Loading…</p>;
  const d = doc.data;
  return (
    <article class="document" aria-labelledby="doc-h">
      <h1 id="doc-h">{d.title}</h1>
      {d.source && <p class="muted">{/^https?:\/\//.test(d.source) ? <a href={d.source}>{d.source}</a> : d.source}</p>}
      <ol class="passages">
        {d.passages.map((p) => (
          <li
            key={p.ordinal}
            id={`passage-${p.ordinal}`}
            class={p.ordinal === chunk ? 'passage cited' : 'passage'}
            aria-current={p.ordinal === chunk ? 'location' : undefined}
          >
            {sectionPath(d.title, p.heading) && <p class="muted">{sectionPath(d.title, p.heading)}</p>}
            <p class="plain">{p.text}</p>
          </li>
        ))}
      </ol>
    </article>
  );
}
