import { ApiError, errorText } from '../lib/api.js';

/** A refused hand-off action in words; a 409 names who holds the conversation (the gateway's `details.holder`). */
export function refusal(err: unknown): string {
  if (err instanceof ApiError && err.status === 409) {
    const holder = err.details?.['holder'] as { name?: unknown } | undefined;
    if (typeof holder?.name === 'string') return `${holder.name} already holds this conversation.`;
  }
  return errorText(err);
}
