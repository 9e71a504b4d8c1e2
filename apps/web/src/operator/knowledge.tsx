import type { DocumentInfo, SearchHit } from '@parley/contracts';
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { ApiError, client, unwrap } from '../lib/api.js';
import { plural, sectionPath } from '../lib/format.js';
import { href } from '../lib/router.js';
import { useAsync } from '../lib/use-async.js';

/** Text and Markdown files are read in the browser and sent as JSON; PDF, DOCX and HTML go as the file, extracted by the gateway. */
async function asJson(file: File, title: string) {
  const text = await file.text();
  const markdown = /\.(md|markdown)$/i.test(file.name);
  const body = { title: title || file.name, source: file.name, ...(markdown ? { markdown: text } : { text }) };
  return unwrap(client.POST('/api/v1/knowledge/documents', { body }));
}

async function asFile(file: File, title: string) {
  const form = new FormData();
  form.append('file', file);
  if (title) form.append('title', title);
  // openapi-fetch sends FormData as it is, and the browser sets the multipart boundary.
  return unwrap(client.POST('/api/v1/knowledge/documents', { body: title ? { title } : {}, bodySerializer: () => form }));
}

/** Upload (text and Markdown as JSON, PDF, DOCX and HTML as files), list, delete, and try a search; hits open their passage. */
export function KnowledgePage(): JSX.Element {
  const docs = useAsync(() => unwrap(client.GET('/api/v1/knowledge/documents', { params: { query: { limit: 100 } } })), []);
  const [busy, setBusy] = useState(false);
  const [msg, setMsg] = useState<string | null>(null);
  const [q, setQ] = useState('');
  const [hits, setHits] = useState<SearchHit[] | null>(null);
  const missing = docs.error instanceof ApiError && docs.error.status === 404;

  const upload = async (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const file = (form.elements.namedItem('file') as HTMLInputElement).files?.[0];
    const titleInput = form.elements.namedItem('title') as HTMLInputElement;
    if (!file) return setMsg('Choose a file first.');
    setBusy(true);
    setMsg(null);
    try {
      const title = titleInput.value.trim();
      const info = /\.(md|markdown|txt)$/i.test(file.name) ? await asJson(file, title) : await asFile(file, title);
      setMsg(`“${info.title}” ${info.outcome ?? 'stored'}: ${plural(info.chunks, 'chunk')}.`);
      form.reset();
      docs.reload();
    } catch (err) {
      setMsg(`Upload failed: ${(err as Error).message}`);
    } finally {
      setBusy(false);
    }
  };
  const remove = async (d: DocumentInfo) => {
    if (!confirm(`Delete “${d.title}” and its chunks?`)) return;
    await unwrap(client.DELETE('/api/v1/knowledge/documents/{id}', { params: { path: { id: d.documentId } } })).catch((err: Error) => setMsg(err.message));
    docs.reload();
  };
  const search = async (e: Event) => {
    e.preventDefault();
    if (!q.trim()) return;
    try {
      setHits((await unwrap(client.GET('/api/v1/knowledge/search', { params: { query: { q: q.trim(), topK: 5 } } }))).hits);
    } catch (err) {
      setMsg(`Search failed: ${(err as Error).message}`);
    }
  };

  if (missing)
    return (
      <p class="muted">
        This gateway has no knowledge routes (<code>/api/v1/knowledge</code>) yet.
      </p>
    );
  return (
    <section aria-labelledby="kn-h">
      <h1 id="kn-h">Knowledge</h1>
      <form class="card" onSubmit={(e) => void upload(e)}>
        <h2>Upload a document</h2>
        <label>
          File (.md, .txt), or a PDF, DOCX or HTML document
          <input
            type="file"
            name="file"
            accept=".md,.markdown,.txt,.pdf,.docx,.html,.htm,text/plain,text/markdown,text/html,application/pdf,application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            required
          />
        </label>
        <label>
          Title (optional)
          <input name="title" />
        </label>
        <button type="submit" disabled={busy}>
          {busy ? 'Uploading…' : 'Upload'}
        </button>
      </form>
      {msg && <p role="status">{msg}</p>}
      {docs.error && (
        <p role="alert" class="error">
          {docs.error.message}
        </p>
      )}
      <h2>Documents</h2>
      {docs.data && docs.data.items.length === 0 && <p class="muted">No documents yet.</p>}
      <ul class="docs">
        {docs.data?.items.map((d) => (
          <li key={d.documentId}>
            <span class="title">{d.title}</span>{' '}
            <span class="muted">
              {d.source ?? ''} · {plural(d.chunks, 'chunk')}
            </span>
            <button type="button" class="ghost small" aria-label={`Delete ${d.title}`} onClick={() => void remove(d)}>
              Delete
            </button>
          </li>
        ))}
      </ul>
      <form class="search" role="search" onSubmit={(e) => void search(e)}>
        <label>
          Try a search
          <input type="search" value={q} onInput={(e) => setQ(e.currentTarget.value)} />
        </label>
        <button type="submit">Search</button>
      </form>
      {hits && hits.length === 0 && <p class="muted">Nothing found.</p>}
      {hits && hits.length > 0 && (
        <ol class="hits" aria-label="Search results">
          {hits.map((h, i) => (
            <li key={i}>
              <a class="hit-title" href={href(`/knowledge/${encodeURIComponent(h.documentId)}${h.ordinal !== undefined ? `?chunk=${h.ordinal}` : ''}`)}>
                {h.title}
              </a>
              {sectionPath(h.title, h.heading) && <span class="muted hit-section"> › {sectionPath(h.title, h.heading)}</span>}{' '}
              <span class="muted">score {h.score.toFixed(3)}</span>
              <p class="plain">{h.text.length > 300 ? `${h.text.slice(0, 300)}…` : h.text}</p>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
