import type { AgentConfig, ChatwootInboxInput, ChatwootInboxView } from '@parley/contracts';
import type { JSX } from 'preact';
import { Field } from '../ui/field.js';
import { useState } from 'preact/hooks';
import { api, errorText, refusedFields } from '../lib/api.js';

const STATUSES = ['pending', 'open', 'snoozed', 'resolved'] as const;
type Status = (typeof STATUSES)[number];
type SecretName = 'apiToken' | 'webhookSecret' | 'inboxToken';

const SECRETS: Array<{ name: SecretName; label: string; hint: string; clearable: boolean; minLength: number }> = [
  { name: 'apiToken', label: 'API access token', hint: 'The Chatwoot agent bot token the replies are sent with.', clearable: false, minLength: 8 },
  {
    name: 'webhookSecret',
    label: 'Webhook secret',
    hint: "Chatwoot's signing secret: deliveries are checked against it (X-Chatwoot-Signature).",
    clearable: true,
    minLength: 16,
  },
  {
    name: 'inboxToken',
    label: 'Inbox URL token',
    hint: 'For Chatwoot versions that do not sign deliveries: a token in the webhook URL.',
    clearable: true,
    minLength: 24,
  },
];

/**
 * Create or change one inbox. Secrets are write-only: the page only knows whether each is set, an
 * empty field keeps the stored value, "Clear" removes it (PUT `null`), and nothing typed is shown again.
 */
export function InboxForm({
  inbox,
  agents,
  onSaved,
  onCancel,
}: {
  inbox: ChatwootInboxView | null;
  agents: AgentConfig[];
  onSaved(saved: ChatwootInboxView, created: boolean): void;
  onCancel(): void;
}): JSX.Element {
  const [accountId, setAccountId] = useState(inbox ? String(inbox.accountId) : '');
  const [inboxId, setInboxId] = useState(inbox ? String(inbox.inboxId) : '');
  const [baseUrl, setBaseUrl] = useState(inbox?.baseUrl ?? '');
  const [agentId, setAgentId] = useState(inbox?.agentId ?? '');
  const [statuses, setStatuses] = useState<string[]>(inbox?.answerStatuses ?? ['pending']);
  const [handoffNote, setHandoffNote] = useState(inbox?.handoffNote ?? '');
  const [enabled, setEnabled] = useState(inbox?.enabled ?? true);
  const [secrets, setSecrets] = useState<Partial<Record<SecretName, string>>>({});
  const [cleared, setCleared] = useState<Partial<Record<SecretName, boolean>>>({});
  const [error, setError] = useState<{ text: string; fields: string[] } | null>(null);
  const [saving, setSaving] = useState(false);
  const isSet = (name: SecretName) => inbox?.[`${name}Set`] ?? false;
  const live = agents.filter((a) => !a.archived || a.agentId === inbox?.agentId);
  const invalid = (field: string) => (error?.fields.includes(field) ? true : undefined);

  const save = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setSaving(true);
    const body: ChatwootInboxInput = {
      accountId: Number(accountId),
      inboxId: Number(inboxId),
      baseUrl: baseUrl.trim(),
      agentId: agentId || null,
      answerStatuses: statuses.filter((s): s is Status => (STATUSES as readonly string[]).includes(s)),
      handoffNote: handoffNote.trim() || null,
      enabled,
    };
    for (const { name } of SECRETS) {
      const typed = secrets[name];
      if (cleared[name]) Object.assign(body, { [name]: null });
      else if (typed) Object.assign(body, { [name]: typed });
    }
    try {
      const reply = await api<{ inboxes: ChatwootInboxView[] }>('PUT', '/channels/chatwoot/inboxes', body);
      const saved = reply.inboxes[0];
      setSecrets({});
      setCleared({});
      if (saved) onSaved(saved, !inbox);
    } catch (err) {
      setError({ text: errorText(err), fields: refusedFields(err) });
    } finally {
      setSaving(false);
    }
  };

  const title = inbox ? `Inbox ${inbox.accountId}/${inbox.inboxId}` : 'New inbox';
  return (
    <form class="card inbox-form" aria-label={title} onSubmit={(e) => void save(e)}>
      <h2>{title}</h2>
      <div class="row">
        <label>
          Chatwoot account id
          <input
            type="number"
            min={1}
            required
            value={accountId}
            disabled={!!inbox}
            onInput={(e) => setAccountId(e.currentTarget.value)}
            aria-invalid={invalid('accountId')}
          />
        </label>
        <label>
          Chatwoot inbox id
          <input
            type="number"
            min={1}
            required
            value={inboxId}
            disabled={!!inbox}
            onInput={(e) => setInboxId(e.currentTarget.value)}
            aria-invalid={invalid('inboxId')}
          />
        </label>
      </div>
      <label>
        Chatwoot URL
        <input
          type="url"
          required
          placeholder="https://chatwoot.example.com"
          value={baseUrl}
          onInput={(e) => setBaseUrl(e.currentTarget.value)}
          aria-invalid={invalid('baseUrl')}
        />
      </label>
      <label>
        Agent
        <select value={agentId} onChange={(e) => setAgentId(e.currentTarget.value)} aria-invalid={invalid('agentId')}>
          <option value="">The tenant's default agent</option>
          {live.map((a) => (
            <option key={a.agentId} value={a.agentId}>
              {a.name} ({a.agentId}){a.archived ? ' — archived' : ''}
            </option>
          ))}
        </select>
      </label>
      {SECRETS.map((s) => (
        <fieldset key={s.name} class="secret" data-secret={s.name}>
          <legend>
            {s.label}{' '}
            <span class={`pill ${isSet(s.name) ? 'pill-set' : 'pill-unset'}`} data-testid={`${s.name}-state`}>
              {isSet(s.name) ? 'set' : 'not set'}
            </span>
          </legend>
          <Field
            id={`inbox-${s.name}`}
            label={isSet(s.name) ? `Replace ${s.label.toLowerCase()}` : `${s.label} (${s.clearable ? 'optional' : 'required'})`}
            hint={`${s.hint}${isSet(s.name) ? ' Leave empty to keep the stored value.' : ''}`}
          >
            <input
              id={`inbox-${s.name}`}
              aria-describedby={`inbox-${s.name}-d`}
              type="password"
              autocomplete="new-password"
              minLength={s.minLength}
              required={!s.clearable && !isSet(s.name)}
              disabled={cleared[s.name]}
              value={secrets[s.name] ?? ''}
              onInput={(e) => setSecrets({ ...secrets, [s.name]: e.currentTarget.value })}
              aria-invalid={invalid(s.name)}
            />
          </Field>
          {s.clearable && isSet(s.name) && (
            <label class="check">
              <input type="checkbox" checked={cleared[s.name] ?? false} onChange={(e) => setCleared({ ...cleared, [s.name]: e.currentTarget.checked })} />
              Clear the stored {s.label.toLowerCase()}
            </label>
          )}
        </fieldset>
      ))}
      <fieldset>
        <legend>Answer conversations whose Chatwoot status is</legend>
        {STATUSES.map((st) => (
          <label key={st} class="check">
            <input
              type="checkbox"
              checked={statuses.includes(st)}
              onChange={(e) => setStatuses(e.currentTarget.checked ? [...statuses, st] : statuses.filter((x) => x !== st))}
            />
            {st}
          </label>
        ))}
      </fieldset>
      <label>
        Hand-off note (optional)
        <textarea rows={2} maxLength={1000} value={handoffNote} onInput={(e) => setHandoffNote(e.currentTarget.value)} />
      </label>
      <label class="check">
        <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.currentTarget.checked)} /> Enabled (the bot answers this inbox)
      </label>
      {error && (
        <p role="alert" class="error">
          Not saved: {error.text}
        </p>
      )}
      <div class="actions">
        <button type="submit" disabled={saving || statuses.length === 0}>
          {inbox ? 'Save' : 'Create'}
        </button>
        <button type="button" class="ghost" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
