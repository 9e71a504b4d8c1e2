import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';

/** Longest search the API accepts (contracts MAX_SEARCH_CHARS). */
const MAX = 200;

/**
 * A search field that reports what to search once typing pauses (or on Enter); an emptied field
 * reports '' so the caller lists without searching.
 */
export function SearchBox(props: { label: string; value: string; onSearch(q: string): void; delayMs?: number }): JSX.Element {
  const [text, setText] = useState(props.value);
  // Only a changed value (the URL edited, a filter cleared elsewhere) replaces what is typed. Effects
  // run a frame after mounting, so syncing on mount too would erase text typed in that frame.
  const shown = useRef(props.value);
  useEffect(() => {
    if (props.value === shown.current) return;
    shown.current = props.value;
    setText(props.value);
  }, [props.value]);
  useEffect(() => {
    if (text.trim() === props.value.trim()) return;
    const t = setTimeout(() => props.onSearch(text.trim()), props.delayMs ?? 300);
    return () => clearTimeout(t);
  }, [text]);
  return (
    <form
      role="search"
      class="search-box"
      onSubmit={(e) => {
        e.preventDefault();
        props.onSearch(text.trim());
      }}
    >
      <label>
        <span class="visually-hidden">{props.label}</span>
        <input type="search" placeholder={props.label} maxLength={MAX} value={text} onInput={(e) => setText(e.currentTarget.value)} />
      </label>
    </form>
  );
}
