import type { AgentConfig, ChatwootInboxView } from '@parley/contracts';
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { api, errorText, get } from '../lib/api.js';
import { useAsync } from '../lib/use-async.js';
import { InboxForm } from './inbox-form.js';

const keyOf = (i: { accountId: number; inboxId: number }) => `${i.accountId}/${i.inboxId}`;

/**
 * The tenant's Chatwoot inboxes (`/api/v1/channels/chatwoot/inboxes`): list, create, edit, disable.
 * An inbox from the gateway's environment is shown but changed only there.
 */
export function InboxesPage(): JSX.Element {
  const inboxes = useAsync(() => get<{ inboxes: ChatwootInboxView[] }>('/channels/chatwoot/inboxes'), []);
  const agents = useAsync(() => get<{ agents: AgentConfig[] }>('/agents'), []);
  // null: no form; 'new': the create form; otherwise the key of the inbox being edited.
  const [editing, setEditing] = useState<string | null>(null);
  const [notice, setNotice] = useState<{ text: string; error: boolean } | null>(null);
  const list = inboxes.data?.inboxes ?? [];
  const agentList = agents.data?.agents ?? [];
  const agentName = (id: string | null) => (id ? (agentList.find((a) => a.agentId === id)?.name ?? id) : 'default agent');
  const current = editing && editing !== 'new' ? (list.find((i) => keyOf(i) === editing) ?? null) : null;

  const setEnabled = async (inbox: ChatwootInboxView, enabled: boolean) => {
    setNotice(null);
    try {
      await api('PUT', '/channels/chatwoot/inboxes', { accountId: inbox.accountId, inboxId: inbox.inboxId, baseUrl: inbox.baseUrl, enabled });
      setNotice({ text: `Inbox ${keyOf(inbox)} ${enabled ? 'enabled' : 'disabled'}.`, error: false });
      inboxes.reload();
    } catch (err) {
      setNotice({ text: `Inbox ${keyOf(inbox)} unchanged: ${errorText(err)}`, error: true });
    }
  };

  return (
    <section aria-labelledby="inboxes-h">
      <h1 id="inboxes-h">Chatwoot inboxes</h1>
      <p class="muted">
        Each inbox answers WhatsApp and other Chatwoot conversations with one of this tenant's agents. Secrets are never shown again once saved.
      </p>
      {inboxes.error && (
        <p role="alert" class="error">
          {errorText(inboxes.error)}
        </p>
      )}
      {inboxes.data && list.length === 0 && <p class="muted">No inboxes yet.</p>}
      {list.length > 0 && (
        <div class="table-wrap">
          <table class="data inboxes">
            <thead>
              <tr>
                <th scope="col">Inbox</th>
                <th scope="col">Chatwoot URL</th>
                <th scope="col">Agent</th>
                <th scope="col">Answers</th>
                <th scope="col">Secrets</th>
                <th scope="col">State</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((i) => (
                <tr key={keyOf(i)} data-inbox={keyOf(i)}>
                  <td>{keyOf(i)}</td>
                  <td class="clip" title={i.baseUrl}>
                    {i.baseUrl}
                  </td>
                  <td data-testid="agent">{agentName(i.agentId)}</td>
                  <td>{i.answerStatuses.join(', ')}</td>
                  <td data-testid="secrets">
                    API token {i.apiTokenSet ? 'set' : 'not set'} · webhook secret {i.webhookSecretSet ? 'set' : 'not set'}
                  </td>
                  <td data-testid="state">
                    <span class={`pill ${i.enabled && !i.secretsUnreadable ? 'pill-succeeded' : 'pill-failed'}`}>
                      {i.secretsUnreadable ? 'secrets unreadable' : i.enabled ? 'enabled' : 'disabled'}
                    </span>
                  </td>
                  <td>
                    {i.source === 'env' ? (
                      <span class="muted small">set in the gateway's environment</span>
                    ) : (
                      <>
                        <button type="button" class="ghost small" aria-label={`Edit inbox ${keyOf(i)}`} onClick={() => setEditing(keyOf(i))}>
                          Edit
                        </button>
                        <button
                          type="button"
                          class="ghost small"
                          aria-label={`${i.enabled ? 'Disable' : 'Enable'} inbox ${keyOf(i)}`}
                          onClick={() => void setEnabled(i, !i.enabled)}
                        >
                          {i.enabled ? 'Disable' : 'Enable'}
                        </button>
                      </>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div class="actions">
        <button type="button" onClick={() => (setNotice(null), setEditing('new'))} disabled={editing === 'new'}>
          New inbox
        </button>
      </div>
      {editing && (
        <InboxForm
          key={editing}
          inbox={current}
          agents={agentList}
          onSaved={(saved, created) => {
            setEditing(null);
            setNotice({ text: `${created ? 'Created' : 'Saved'} inbox ${keyOf(saved)}.`, error: false });
            inboxes.reload();
          }}
          onCancel={() => setEditing(null)}
        />
      )}
      {notice && (
        <p role={notice.error ? 'alert' : 'status'} class={notice.error ? 'error' : undefined}>
          {notice.text}
        </p>
      )}
    </section>
  );
}
