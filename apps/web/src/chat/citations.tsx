import type { JSX } from 'preact';
import { href } from '../lib/router.js';
import type { Step } from './transcript.js';

export interface Citation {
  ref: number;
  title: string;
  documentId: string;
  chunk: number | undefined;
}

/**
 * The passages `search_knowledge` returned in these steps, numbered as the tool numbered them (the
 * answer cites them as [ref]). A result arrives as the tool's JSON text (archived messages) or
 * already parsed (live steps); anything else has no citations.
 */
export function citationsOf(steps: Step[]): Citation[] {
  const out: Citation[] = [];
  for (const s of steps) {
    if (s.kind !== 'tool_result' || s.name !== 'search_knowledge') continue;
    const result = parseMaybe((s.data as { result?: unknown } | undefined)?.result);
    const hits = (result as { hits?: unknown } | null)?.hits;
    if (!Array.isArray(hits)) continue;
    for (const h of hits as Array<Record<string, unknown>>) {
      if (typeof h.documentId !== 'string' || typeof h.title !== 'string') continue;
      out.push({
        ref: typeof h.ref === 'number' ? h.ref : out.length + 1,
        title: h.title,
        documentId: h.documentId,
        chunk: typeof h.chunk === 'number' ? h.chunk : undefined,
      });
    }
  }
  return out;
}

export function citationHref(c: Citation): string {
  return href(`/knowledge/${encodeURIComponent(c.documentId)}${c.chunk !== undefined ? `?chunk=${c.chunk}` : ''}`);
}

/** "Sources: [1] Title, [2] Title", each a link to the cited passage. */
export function Citations({ steps }: { steps: Step[] }): JSX.Element | null {
  const cited = citationsOf(steps);
  if (cited.length === 0) return null;
  return (
    <nav class="citations" aria-label="Sources">
      <span class="muted">Sources:</span>
      <ol>
        {cited.map((c) => (
          <li key={`${c.ref}-${c.documentId}-${c.chunk ?? ''}`}>
            <a href={citationHref(c)}>
              [{c.ref}] {c.title}
            </a>
          </li>
        ))}
      </ol>
    </nav>
  );
}

function parseMaybe(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v);
  } catch {
    return null;
  }
}
