import type { JSX } from 'preact';
import { useState } from 'preact/hooks';

interface Props {
  disabled: boolean;
  running: boolean;
  maxChars: number;
  onSend(text: string): void;
  onStop(): void;
}

/** Enter sends, Shift+Enter is a new line; while a run streams, Stop cancels it. */
export function Composer({ disabled, running, maxChars, onSend, onStop }: Props): JSX.Element {
  const [text, setText] = useState('');
  const send = (e?: Event) => {
    e?.preventDefault();
    const t = text.trim();
    if (!t || disabled) return;
    onSend(t);
    setText('');
  };
  return (
    <form class="composer" onSubmit={send}>
      <label for="composer-text" class="visually-hidden">
        Message
      </label>
      <textarea
        id="composer-text"
        rows={2}
        value={text}
        maxLength={maxChars}
        placeholder={disabled ? 'Waiting for the connection…' : 'Write a message'}
        onInput={(e) => setText(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) send(e);
        }}
      />
      {running && (
        <button type="button" class="stop" onClick={onStop}>
          Stop
        </button>
      )}
      <button type="submit" disabled={disabled || !text.trim()}>
        Send
      </button>
    </form>
  );
}
