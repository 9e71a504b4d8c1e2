import type { AgentConfig, FlowInfo } from '@parley/contracts';
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { api, get } from '../lib/api.js';
import { navigate } from '../lib/router.js';
import { useAsync } from '../lib/use-async.js';

/** Edit an agent's prompt, model, tools and policy, then try it in the chat. */
export function AgentsPage(): JSX.Element {
  const agents = useAsync(() => get<{ agents: AgentConfig[] }>('/agents'), []);
  const flows = useAsync(() => get<{ flows: FlowInfo[] }>('/flows'), []);
  const [picked, setPicked] = useState<string | null>(null);
  const list = agents.data?.agents ?? [];
  const agent = list.find((a) => a.agentId === picked) ?? list[0];
  return (
    <section aria-labelledby="ag-h">
      <h1 id="ag-h">Agents</h1>
      {agents.error && (
        <p role="alert" class="error">
          {agents.error.message}
        </p>
      )}
      {list.length > 1 && (
        <label class="inline">
          Agent{' '}
          <select value={agent?.agentId} onChange={(e) => setPicked(e.currentTarget.value)}>
            {list.map((a) => (
              <option key={a.agentId} value={a.agentId}>
                {a.name}
                {a.isDefault ? ' (default)' : ''}
              </option>
            ))}
          </select>
        </label>
      )}
      {agent && <AgentForm key={agent.agentId} agent={agent} flows={flows.data?.flows ?? []} onSaved={agents.reload} />}
    </section>
  );
}

function AgentForm({ agent, flows, onSaved }: { agent: AgentConfig; flows: FlowInfo[]; onSaved(): void }): JSX.Element {
  const [a, setA] = useState(agent);
  const [tools, setTools] = useState(agent.tools.join(', '));
  const [msg, setMsg] = useState<string | null>(null);
  const set = <K extends keyof AgentConfig>(k: K, v: AgentConfig[K]) => setA({ ...a, [k]: v });
  const save = async (e: Event) => {
    e.preventDefault();
    setMsg(null);
    const { agentId, isDefault: _d, ...rest } = a;
    try {
      await api('PUT', `/agents/${encodeURIComponent(agentId)}`, { ...rest, tools: tools.split(/[\s,]+/).filter(Boolean) });
      setMsg('Saved.');
      onSaved();
    } catch (err) {
      setMsg(`Not saved: ${(err as Error).message}`);
    }
  };
  return (
    <form class="card agent-form" onSubmit={(e) => void save(e)}>
      <label>
        Name
        <input value={a.name} onInput={(e) => set('name', e.currentTarget.value)} required />
      </label>
      <label>
        System prompt
        <textarea rows={8} value={a.systemPrompt} onInput={(e) => set('systemPrompt', e.currentTarget.value)} />
      </label>
      <div class="row">
        <label>
          Model
          <input value={a.model} onInput={(e) => set('model', e.currentTarget.value)} required />
        </label>
        <label>
          Temperature
          <input type="number" min={0} max={2} step={0.1} value={a.temperature} onInput={(e) => set('temperature', Number(e.currentTarget.value))} />
        </label>
      </div>
      <label>
        Tools (comma-separated)
        <input value={tools} onInput={(e) => setTools(e.currentTarget.value)} aria-describedby="tools-hint" />
      </label>
      <p id="tools-hint" class="muted small">
        e.g. search_knowledge, current_time, handoff_to_human
      </p>
      <div class="row">
        <label>
          Flow
          <select value={a.flow} onChange={(e) => set('flow', e.currentTarget.value)}>
            {(flows.length ? flows.map((f) => f.name) : [a.flow]).map((n) => (
              <option key={n}>{n}</option>
            ))}
          </select>
        </label>
        <label>
          Second message while answering
          <select value={a.doubleTexting} onChange={(e) => set('doubleTexting', e.currentTarget.value as AgentConfig['doubleTexting'])}>
            <option value="enqueue">enqueue</option>
            <option value="reject">reject</option>
            <option value="interrupt">interrupt</option>
          </select>
        </label>
        <label>
          Max run (ms)
          <input type="number" min={1000} step={1000} value={a.maxRunMs} onInput={(e) => set('maxRunMs', Number(e.currentTarget.value))} />
        </label>
      </div>
      <div class="actions">
        <button type="submit">Save</button>
        <button type="button" class="ghost" onClick={() => navigate(`/chat?agent=${encodeURIComponent(agent.agentId)}`)}>
          Chat with this agent
        </button>
      </div>
      {msg && <p role="status">{msg}</p>}
    </form>
  );
}
