import type { JSX } from 'preact';
import { parseMarkdown, type Block, type Inline } from './parse.js';

/** Renders model text: preact turns every string into a text node, so nothing here can become markup. */
export function Markdown({ text }: { text: string }): JSX.Element {
  return <div class="md">{parseMarkdown(text).map(block)}</div>;
}

function block(b: Block, key: number): JSX.Element {
  switch (b.t) {
    case 'p':
      return <p key={key}>{b.c.map(inline)}</p>;
    case 'h': {
      const H = (['h3', 'h4', 'h5'] as const)[b.level - 1] ?? 'h5';
      return <H key={key}>{b.c.map(inline)}</H>;
    }
    case 'ul':
      return (
        <ul key={key}>
          {b.items.map((it, i) => (
            <li key={i}>{it.map(inline)}</li>
          ))}
        </ul>
      );
    case 'ol':
      return (
        <ol key={key} start={b.start}>
          {b.items.map((it, i) => (
            <li key={i}>{it.map(inline)}</li>
          ))}
        </ol>
      );
    case 'quote':
      return <blockquote key={key}>{b.c.map(inline)}</blockquote>;
    case 'pre':
      return (
        <pre key={key} data-lang={b.lang || undefined}>
          <code>{b.v}</code>
        </pre>
      );
  }
}

function inline(n: Inline, key: number): JSX.Element | string {
  switch (n.t) {
    case 'text':
      return n.v;
    case 'br':
      return <br key={key} />;
    case 'code':
      return <code key={key}>{n.v}</code>;
    case 'strong':
      return <strong key={key}>{n.c.map(inline)}</strong>;
    case 'em':
      return <em key={key}>{n.c.map(inline)}</em>;
    case 'link':
      return (
        <a key={key} href={n.href} target="_blank" rel="noopener noreferrer nofollow">
          {n.c.map(inline)}
        </a>
      );
  }
}
