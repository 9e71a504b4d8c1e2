import type { AgentConfig, AgentSpec, FlowInfo, ToolInfo } from '@parley/contracts';
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { client, unwrap } from '../lib/api.js';
import { shortDate } from '../lib/format.js';
import { navigate } from '../lib/router.js';
import { useAsync } from '../lib/use-async.js';

const specOf = ({
  name,
  systemPrompt,
  greeting,
  model,
  temperature,
  tools,
  flow,
  doubleTexting,
  maxRunMs,
  requiresApproval,
  approver,
}: AgentSpec): AgentSpec => ({
  name,
  systemPrompt,
  greeting,
  model,
  temperature,
  tools,
  flow,
  doubleTexting,
  maxRunMs,
  requiresApproval: requiresApproval ?? [],
  approver: approver ?? 'user',
});

/**
 * The tenant's agents: the list (version, default, archived), a new agent, the edit form (every save is a new
 * version), the versions with "Roll back to this", archive/restore and "Make default" (the web chat's agent).
 * Changes need admin; the gateway says so when the user is an operator.
 */
export function AgentsPage(): JSX.Element {
  const agents = useAsync(() => unwrap(client.GET('/api/v1/agents')), []);
  const flows = useAsync(() => unwrap(client.GET('/api/v1/flows')), []);
  const tools = useAsync(() => unwrap(client.GET('/api/v1/tools')), []);
  const [picked, setPicked] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  // One line saying what the last change did; outside the forms, which are rebuilt when a change makes a new version.
  const [notice, setNotice] = useState<string | null>(null);
  const changed = (msg: string) => {
    setNotice(msg);
    agents.reload();
  };
  const list = agents.data?.agents ?? [];
  const agent = list.find((a) => a.agentId === picked) ?? list.find((a) => a.isDefault) ?? list[0];
  const ctx = { flows: flows.data?.flows ?? [], tools: tools.data?.tools ?? [] };
  return (
    <section aria-labelledby="ag-h">
      <h1 id="ag-h">Agents</h1>
      {agents.error && (
        <p role="alert" class="error">
          {agents.error.message}
        </p>
      )}
      <div class="table-wrap">
        <table class="data agents">
          <thead>
            <tr>
              <th>Agent</th>
              <th>Name</th>
              <th>Version</th>
              <th>State</th>
            </tr>
          </thead>
          <tbody>
            {list.map((a) => (
              <tr key={a.agentId} data-agent={a.agentId} aria-current={!creating && a.agentId === agent?.agentId ? 'true' : undefined}>
                <td>
                  <button
                    type="button"
                    class="link"
                    onClick={() => {
                      setCreating(false);
                      setNotice(null);
                      setPicked(a.agentId);
                    }}
                  >
                    {a.agentId}
                  </button>
                </td>
                <td>{a.name}</td>
                <td data-testid="version">v{a.version}</td>
                <td data-testid="state">{a.archived ? 'archived' : a.isDefault ? 'default (web chat)' : 'live'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div class="actions">
        <button type="button" onClick={() => setCreating(true)} disabled={creating}>
          New agent
        </button>
      </div>
      {creating && agent && (
        <CreateForm
          template={agent}
          {...ctx}
          onCreated={(id) => {
            setCreating(false);
            setPicked(id);
            changed(`Created ${id}.`);
          }}
          onCancel={() => setCreating(false)}
        />
      )}
      {!creating && agent && (
        <div key={`${agent.agentId}:${agent.version}:${String(agent.archived)}:${String(agent.isDefault)}`}>
          <AgentForm agent={agent} {...ctx} report={setNotice} onSaved={changed} />
          <AgentActions agent={agent} report={setNotice} onChanged={changed} />
          <Versions agent={agent} report={setNotice} onRolledBack={changed} />
        </div>
      )}
      {notice && <p role="status">{notice}</p>}
    </section>
  );
}

interface FormContext {
  flows: FlowInfo[];
  tools: ToolInfo[];
}

function CreateForm({
  template,
  flows,
  tools,
  onCreated,
  onCancel,
}: FormContext & { template: AgentSpec; onCreated(id: string): void; onCancel(): void }): JSX.Element {
  const [agentId, setAgentId] = useState('');
  const [spec, setSpec] = useState<AgentSpec>({ ...specOf(template), name: '', systemPrompt: '', greeting: '' });
  const [msg, setMsg] = useState<string | null>(null);
  const create = async (e: Event) => {
    e.preventDefault();
    setMsg(null);
    try {
      await unwrap(client.POST('/api/v1/agents', { body: { ...spec, agentId } }));
      onCreated(agentId);
    } catch (err) {
      setMsg(`Not created: ${(err as Error).message}`);
    }
  };
  return (
    <form class="card agent-form" aria-label="New agent" onSubmit={(e) => void create(e)}>
      <h2>New agent</h2>
      <label>
        Agent id
        <input value={agentId} onInput={(e) => setAgentId(e.currentTarget.value)} required pattern="[A-Za-z0-9._\-]+" aria-describedby="id-hint" />
      </label>
      <p id="id-hint" class="muted small">
        Letters, digits, ".", "_" and "-"; used in links such as <code>#/chat?agent=sales</code> and by Chatwoot inboxes.
      </p>
      <SpecFields spec={spec} onChange={setSpec} flows={flows} tools={tools} />
      <div class="actions">
        <button type="submit">Create</button>
        <button type="button" class="ghost" onClick={onCancel}>
          Cancel
        </button>
      </div>
      {msg && <p role="status">{msg}</p>}
    </form>
  );
}

interface Reports {
  report(msg: string | null): void;
}

function AgentForm({ agent, flows, tools, report, onSaved }: FormContext & Reports & { agent: AgentConfig; onSaved(msg: string): void }): JSX.Element {
  const [spec, setSpec] = useState<AgentSpec>(specOf(agent));
  const save = async (e: Event) => {
    e.preventDefault();
    report(null);
    try {
      const saved = await unwrap(client.PUT('/api/v1/agents/{id}', { params: { path: { id: agent.agentId } }, body: spec }));
      onSaved(`Saved as version ${saved.version}.`);
    } catch (err) {
      report(`Not saved: ${(err as Error).message}`);
    }
  };
  return (
    <form class="card agent-form" aria-label={`Agent ${agent.agentId}`} onSubmit={(e) => void save(e)}>
      <h2>
        {agent.agentId} <span class="muted small">version {agent.version}</span>
      </h2>
      <SpecFields spec={spec} onChange={setSpec} flows={flows} tools={tools} />
      <div class="actions">
        <button type="submit">Save</button>
        <button type="button" class="ghost" onClick={() => navigate(`/chat?agent=${encodeURIComponent(agent.agentId)}`)} disabled={agent.archived}>
          Chat with this agent
        </button>
      </div>
    </form>
  );
}

function SpecFields({ spec, onChange, flows, tools }: FormContext & { spec: AgentSpec; onChange(s: AgentSpec): void }): JSX.Element {
  const set = <K extends keyof AgentSpec>(k: K, v: AgentSpec[K]) => onChange({ ...spec, [k]: v });
  const toggle = (name: string, on: boolean) => set('tools', on ? [...spec.tools.filter((t) => t !== name), name] : spec.tools.filter((t) => t !== name));
  const gated = spec.requiresApproval ?? [];
  const gate = (name: string, on: boolean) => set('requiresApproval', on ? [...gated.filter((t) => t !== name), name] : gated.filter((t) => t !== name));
  // A tool the agent has but the service no longer lists stays visible, so saving does not drop it silently.
  const known: ToolInfo[] = [
    ...tools,
    ...spec.tools.filter((t) => !tools.some((x) => x.name === t)).map((name) => ({ name, description: '(not available)', source: '' })),
  ];
  return (
    <>
      <label>
        Name
        <input value={spec.name} onInput={(e) => set('name', e.currentTarget.value)} required />
      </label>
      <label>
        System prompt
        <textarea rows={8} value={spec.systemPrompt} onInput={(e) => set('systemPrompt', e.currentTarget.value)} />
      </label>
      <label>
        Greeting
        <input value={spec.greeting} onInput={(e) => set('greeting', e.currentTarget.value)} aria-describedby="greeting-hint" />
      </label>
      <p id="greeting-hint" class="muted small">
        Said when a new conversation opens; empty: no greeting.
      </p>
      <div class="row">
        <label>
          Model
          <input value={spec.model} onInput={(e) => set('model', e.currentTarget.value)} required />
        </label>
        <label>
          Temperature
          <input type="number" min={0} max={2} step={0.1} value={spec.temperature} onInput={(e) => set('temperature', Number(e.currentTarget.value))} />
        </label>
      </div>
      <fieldset class="tools">
        <legend>Tools</legend>
        {known.map((t) => (
          <div key={t.name} class="tool-row">
            <label class="check">
              <input type="checkbox" checked={spec.tools.includes(t.name)} onChange={(e) => toggle(t.name, e.currentTarget.checked)} />
              <span>
                <code>{t.name}</code> <span class="muted small">{t.description}</span>
                {t.roles && <span class="muted small"> (only for {t.roles.join(', ')})</span>}
              </span>
            </label>
            <label class="check small approval-check">
              <input type="checkbox" checked={gated.includes(t.name)} onChange={(e) => gate(t.name, e.currentTarget.checked)} />
              <span>
                needs approval<span class="visually-hidden"> ({t.name})</span>
              </span>
            </label>
          </div>
        ))}
        <label>
          Who approves
          <select value={spec.approver ?? 'user'} onChange={(e) => set('approver', e.currentTarget.value as NonNullable<AgentSpec['approver']>)}>
            <option value="user">the user in the chat</option>
            <option value="operator">an operator</option>
          </select>
        </label>
        <p class="muted small">A call to a tool that needs approval waits until it is approved, edited or rejected.</p>
      </fieldset>
      <div class="row">
        <label>
          Flow
          <select value={spec.flow} onChange={(e) => set('flow', e.currentTarget.value)}>
            {(flows.length ? flows.map((f) => f.name) : [spec.flow]).map((n) => (
              <option key={n}>{n}</option>
            ))}
          </select>
        </label>
        <label>
          Second message while answering
          <select value={spec.doubleTexting} onChange={(e) => set('doubleTexting', e.currentTarget.value as AgentSpec['doubleTexting'])}>
            <option value="enqueue">enqueue</option>
            <option value="reject">reject</option>
            <option value="interrupt">interrupt</option>
          </select>
        </label>
        <label>
          Max run (ms)
          <input type="number" min={1000} step={1000} value={spec.maxRunMs} onInput={(e) => set('maxRunMs', Number(e.currentTarget.value))} />
        </label>
      </div>
    </>
  );
}

function AgentActions({ agent, report, onChanged }: Reports & { agent: AgentConfig; onChanged(msg: string): void }): JSX.Element {
  const act = async (verb: 'archive' | 'restore' | 'make-default', done: string) => {
    report(null);
    try {
      const path = { id: agent.agentId };
      await unwrap(
        verb === 'archive'
          ? client.POST('/api/v1/agents/{id}/archive', { params: { path } })
          : verb === 'restore'
            ? client.POST('/api/v1/agents/{id}/restore', { params: { path } })
            : client.POST('/api/v1/agents/{id}/make-default', { params: { path } }),
      );
      onChanged(done);
    } catch (err) {
      report(`Not done: ${(err as Error).message}`);
    }
  };
  return (
    <div class="card">
      <p class="muted small">The default agent answers the web chat (and runs that name no agent). An archived agent keeps its history but answers nothing.</p>
      <div class="actions">
        {!agent.isDefault && !agent.archived && (
          <button type="button" class="ghost" onClick={() => void act('make-default', 'Now the default agent.')}>
            Make default
          </button>
        )}
        {agent.archived ? (
          <button type="button" class="ghost" onClick={() => void act('restore', 'Restored.')}>
            Restore
          </button>
        ) : (
          <button type="button" class="ghost" disabled={agent.isDefault} onClick={() => void act('archive', 'Archived.')}>
            Archive
          </button>
        )}
      </div>
    </div>
  );
}

function Versions({ agent, report, onRolledBack }: Reports & { agent: AgentConfig; onRolledBack(msg: string): void }): JSX.Element {
  const path = { id: agent.agentId };
  const versions = useAsync(() => unwrap(client.GET('/api/v1/agents/{id}/versions', { params: { path } })), [agent.agentId, agent.version]);
  const rollback = async (version: number) => {
    report(null);
    try {
      const rolled = await unwrap(client.POST('/api/v1/agents/{id}/rollback', { params: { path }, body: { version } }));
      onRolledBack(`Rolled back to version ${version}: now version ${rolled.version}.`);
    } catch (err) {
      report(`Not rolled back: ${(err as Error).message}`);
    }
  };
  return (
    <section class="card" aria-labelledby="ver-h">
      <h2 id="ver-h">Versions</h2>
      {versions.error && (
        <p role="alert" class="error">
          {versions.error.message}
        </p>
      )}
      <div class="table-wrap">
        <table class="data versions">
          <thead>
            <tr>
              <th>Version</th>
              <th>By</th>
              <th>When</th>
              <th>Prompt</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {(versions.data?.versions ?? []).map((v) => (
              <tr key={v.version} data-version={v.version}>
                <td>v{v.version}</td>
                <td>{v.createdBy ?? 'platform'}</td>
                <td>{shortDate(v.createdAt)}</td>
                <td class="muted small">{v.spec.systemPrompt.slice(0, 80)}</td>
                <td>
                  {v.version === agent.version ? (
                    <span class="muted small">current</span>
                  ) : (
                    <button type="button" class="ghost" onClick={() => void rollback(v.version)}>
                      Roll back to this
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
