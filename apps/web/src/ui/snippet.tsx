import type { SearchMatch } from '@parley/contracts';
import type { JSX } from 'preact';

/** A search hit's excerpt: matched words in <mark>, everything as text (a snippet is never markup). */
export function Snippet({ match }: { match: SearchMatch }): JSX.Element {
  return (
    <span class="snippet" data-testid="snippet">
      {match.snippet.map((p, i) => (p.hit ? <mark key={i}>{p.text}</mark> : <span key={i}>{p.text}</span>))}
    </span>
  );
}
