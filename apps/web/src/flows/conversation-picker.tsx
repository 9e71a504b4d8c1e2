import type { ConversationSummary } from '@parley/contracts';
import type { JSX } from 'preact';
import { Field } from '../ui/field.js';
import { errorText, get } from '../lib/api.js';
import { plural, shortDate, shortId } from '../lib/format.js';
import { href } from '../lib/router.js';
import { useAsync } from '../lib/use-async.js';

/**
 * The caller's own conversations (`GET /me/conversations`, newest first) for a flow that reads one.
 * Only one's own: the gateway refuses a run on anybody else's conversation, whatever the role.
 */
export function ConversationPicker({ value, required, onChange }: { value: string; required: boolean; onChange(id: string): void }): JSX.Element {
  const list = useAsync(() => get<{ items: ConversationSummary[] }>('/me/conversations?limit=50'), []);
  const items = list.data?.items ?? [];
  if (list.error)
    return (
      <p role="alert" class="error">
        Your conversations could not be listed: {errorText(list.error)}
      </p>
    );
  if (list.data && items.length === 0)
    return (
      <p class="muted" data-testid="no-conversations">
        This flow works on one of your conversations, and you have none yet. <a href={href('/chat')}>Start one in the chat</a>.
      </p>
    );
  return (
    <Field
      id="field-conversation"
      label={`Conversation${required ? '' : ' (optional)'}`}
      hint={`The run reads this conversation${required ? '; it cannot run without one' : ''}.`}
    >
      <select
        id="field-conversation"
        required={required}
        value={value}
        onChange={(e) => onChange(e.currentTarget.value)}
        aria-describedby="field-conversation-d"
      >
        <option value="">{list.loading ? 'Loading…' : '— pick a conversation —'}</option>
        {items.map((c) => (
          <option key={c.conversationId} value={c.conversationId}>
            {`${c.title || shortId(c.conversationId)} · ${plural(c.messageCount, 'message')} · ${shortDate(c.lastActivityAt)}`}
          </option>
        ))}
      </select>
    </Field>
  );
}
