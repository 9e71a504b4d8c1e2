import type { FlowInfo } from '@parley/contracts';
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { api, errorText, get } from '../lib/api.js';
import { useRunEvents } from '../lib/run-events.js';
import { useAsync } from '../lib/use-async.js';
import { rememberRun } from '../lib/recent-runs.js';
import { RunView } from '../ui/run-view.js';
import { ConversationPicker } from './conversation-picker.js';
import { initialValues, SchemaFields, toInput, type FormValues, type JsonSchema } from './schema-form.js';

/** Pick a flow, fill the form generated from its input schema, run it over REST and watch it over SSE. */
export function FlowsPage(): JSX.Element {
  const flows = useAsync(() => get<{ flows: FlowInfo[] }>('/flows'), []);
  const [name, setName] = useState<string | null>(null);
  const list = flows.data?.flows ?? [];
  const flow = list.find((f) => f.name === name) ?? list[0];
  return (
    <section class="flows" aria-labelledby="flows-h">
      <h1 id="flows-h">Flows</h1>
      {flows.error && (
        <p role="alert" class="error">
          {flows.error.message}
        </p>
      )}
      {list.length > 0 && (
        <label class="inline">
          Flow{' '}
          <select value={flow?.name} onChange={(e) => setName(e.currentTarget.value)}>
            {list.map((f) => (
              <option key={f.name}>{f.name}</option>
            ))}
          </select>
        </label>
      )}
      {flow && <FlowRunner key={flow.name} flow={flow} />}
    </section>
  );
}

function FlowRunner({ flow }: { flow: FlowInfo }): JSX.Element {
  const schema = flow.inputSchema as JsonSchema;
  const [values, setValues] = useState<FormValues>(() => initialValues(schema));
  const [conversationId, setConversationId] = useState('');
  // A flow that reads a conversation gets a picker; agent-execution older than FlowInfo.conversation sends none.
  const usesConversation = (flow.conversation ?? 'none') !== 'none' || flow.requiresConversation === true;
  const [runId, setRunId] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const { snap, error: streamError } = useRunEvents(runId);
  const running = !!runId && (!snap || snap.state === 'PENDING' || snap.state === 'PROGRESS');

  const run = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      const r = await api<{ runId: string }>('POST', '/runs', {
        flow: flow.name,
        input: toInput(schema, values),
        ...(usesConversation && conversationId ? { conversationId } : {}),
      });
      rememberRun(r.runId, `${flow.name} flow`);
      setRunId(r.runId);
    } catch (err) {
      setError(errorText(err));
    }
  };
  const cancel = () => runId && void api('POST', `/runs/${encodeURIComponent(runId)}/cancel`).catch((err: unknown) => setError(errorText(err)));

  return (
    <>
      <p class="muted">{flow.description}</p>
      <form class="card" onSubmit={(e) => void run(e)} aria-label={`Input of ${flow.name}`}>
        {usesConversation && <ConversationPicker value={conversationId} required={flow.requiresConversation === true} onChange={setConversationId} />}
        <SchemaFields schema={schema} values={values} onChange={setValues} />
        <div class="actions">
          <button type="submit" disabled={running || (flow.requiresConversation === true && !conversationId)}>
            {running ? 'Running…' : 'Run'}
          </button>
          {running && (
            <button type="button" class="stop" onClick={cancel}>
              Cancel
            </button>
          )}
        </div>
      </form>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      {streamError && (
        <p role="alert" class="error">
          {streamError}
        </p>
      )}
      {snap && (
        <section aria-label="Run" class="card">
          <RunView snap={snap} />
        </section>
      )}
    </>
  );
}
