import type { ComponentChildren, JSX } from 'preact';

/**
 * A labelled control with its hint beside, not inside, the label: the control's accessible name is the
 * label alone and the hint is its description (`aria-describedby` = `${id}-d`, set on the control).
 */
export function Field({ id, label, hint, children }: { id: string; label: string; hint?: string | undefined; children: ComponentChildren }): JSX.Element {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {children}
      {hint && (
        <span class="muted small" id={`${id}-d`}>
          {hint}
        </span>
      )}
    </div>
  );
}
