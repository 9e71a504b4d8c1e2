import type { FlowInfo } from '@parley/contracts';
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { client, unwrap } from '../lib/api.js';
import { useRunEvents } from '../lib/run-events.js';
import { useAsync } from '../lib/use-async.js';
import { rememberRun } from '../lib/recent-runs.js';
import { RunView } from '../ui/run-view.js';
import { initialValues, SchemaFields, toInput, type FormValues, type JsonSchema } from './schema-form.js';

/** Pick a flow, fill the form generated from its input schema, run it over REST and watch it over SSE. */
export function FlowsPage(): JSX.Element {
  const flows = useAsync(() => unwrap(client.GET('/api/v1/flows')), []);
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
  const [runId, setRunId] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const { snap, error: streamError } = useRunEvents(runId);
  const running = !!runId && (!snap || snap.state === 'PENDING' || snap.state === 'PROGRESS');

  const run = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      const r = await unwrap(client.POST('/api/v1/runs', { body: { flow: flow.name, input: toInput(schema, values) } }));
      rememberRun(r.runId, `${flow.name} flow`);
      setRunId(r.runId);
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const cancel = () =>
    runId && void unwrap(client.POST('/api/v1/runs/{id}/cancel', { params: { path: { id: runId } } })).catch((err: Error) => setError(err.message));

  return (
    <>
      <p class="muted">{flow.description}</p>
      <form class="card" onSubmit={(e) => void run(e)} aria-label={`Input of ${flow.name}`}>
        <SchemaFields schema={schema} values={values} onChange={setValues} />
        <div class="actions">
          <button type="submit" disabled={running}>
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
