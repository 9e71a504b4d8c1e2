import type { JSX } from 'preact';
import { useState } from 'preact/hooks';

/** Copies `value` to the clipboard and says so; where the clipboard is refused, says that instead (the value stays in the title). */
export function CopyButton({ value, label }: { value: string; label: string }): JSX.Element {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  const copy = () =>
    navigator.clipboard.writeText(value).then(
      () => setState('copied'),
      () => setState('failed'),
    );
  return (
    <button type="button" class="ghost small copy" aria-label={label} title={value} onClick={() => void copy()}>
      {state === 'copied' ? 'Copied' : state === 'failed' ? 'Copy refused' : 'Copy'}
    </button>
  );
}
