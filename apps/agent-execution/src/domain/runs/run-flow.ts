import type { Logger } from 'pino';
import { isRecord } from '@parley/service-kit';
import type { ActionMeta, Bus } from '@parley/bus';
import { ActionError, type Catalog, type Usage } from '@parley/contracts';
import { countChatTokens, countTokens, type ChatResult, type ModelClient } from '@parley/llm';
import type { AgentExecutionConfig } from '../../env.js';
import type { ChatMessage, FlowRuntime, ModelCallOptions } from '../flows/define-flow.js';
import type { ToolDef } from '../tools/define-tool.js';
import type { ExternalTools } from '../tools/external-tools.js';
import { Toolbox } from '../tools/toolbox.js';
import type { Durable } from '../flows/flow-graph.js';
import { isApprovalRequest, type ApprovalRequest } from '../tools/approval.js';
import type { Admitted } from './admission.js';
import type { RunEvents } from './run-events.js';

export interface FlowDeps {
  bus: Bus<Catalog>;
  model: ModelClient;
  tools: readonly ToolDef[];
  /** The agent's MCP servers and HTTP tools; absent: built-ins only. */
  external?: ExternalTools | undefined;
  config: AgentExecutionConfig['runs'];
}

/** One run as its flow sees it. */
export interface FlowRun {
  admitted: Admitted;
  runId: string;
  tenantId: string;
  roles: readonly string[];
  meta: ActionMeta;
  /** The model's messages (see beginTurn). */
  messages: ChatMessage[];
  events: RunEvents;
  signal: AbortSignal;
  /** Summed over every model call of the run (mutated). */
  usage: Usage;
  /** flowMs and modelMs are added. */
  timings: Record<string, number>;
  log: Logger;
  /** The run may pause for approvals (checkpointed under its id); `resume` continues a paused one. */
  durable?: Durable | undefined;
}

/** A run that paused on a tool call needing a person's decision (its graph state is checkpointed). */
export interface FlowPaused {
  paused: ApprovalRequest;
}

/** What a flow produced: its answer, and the turns (tool calls and results) to save before it. */
export interface FlowAnswer {
  text: string;
  output?: unknown;
  turns: ChatMessage[];
}

/** Runs the flow's graph on the run's messages, streaming its tokens and steps; saves nothing. */
export async function runFlow(d: FlowDeps, run: FlowRun): Promise<FlowAnswer | FlowPaused> {
  const { agent, flow, conversationId, input } = run.admitted;
  const messages = run.messages;
  const notes: Record<string, unknown> = {};
  let modelMs = 0;
  // The lifecycle stops the run agent.maxRunMs after it starts the flow (right before this call).
  const deadline = Date.now() + agent.maxRunMs;
  // Configured MCP servers and HTTP tools are enabled by being configured; role gating applies as for built-ins.
  const external = d.external
    ? await d.external.forRun(agent, run.tenantId, run.signal, deadline, run.log, (server, why) =>
        run.events.step('log', 'mcp_server_unavailable', { server, error: why }),
      )
    : [];
  const toolbox = new Toolbox(
    [...d.tools, ...external],
    [...agent.tools, ...external.map((t) => t.name)],
    run.roles,
    {
      bus: d.bus,
      meta: run.meta,
      runId: run.runId,
      tenantId: run.tenantId,
      conversationId,
      signal: run.signal,
      timeoutMs: d.config.toolTimeoutMs,
      deadline,
      log: run.log,
      note: (k, v) => (notes[k] = v),
    },
    run.events,
    agent.requiresApproval ?? [],
  );
  const callModel = async (msgs: readonly ChatMessage[], opts: ModelCallOptions = {}): Promise<ChatResult> => {
    const started = performance.now();
    let done: ChatResult | undefined;
    let firstToken = true;
    const request = {
      messages: msgs,
      temperature: agent.temperature,
      model: agent.model,
      signal: run.signal,
      ...(opts.tools?.length ? { tools: opts.tools } : {}),
      ...(opts.maxTokens ? { maxTokens: opts.maxTokens } : {}),
    };
    for await (const chunk of d.model.streamChat(request)) {
      if (chunk.type === 'token') {
        if (!opts.silent) {
          run.events.token(chunk.delta);
          // A stream that arrived in one read is otherwise parsed to its end before the first token's
          // frame is written: one turn of the event loop lets it leave now.
          if (firstToken) await new Promise<void>((resolve) => setImmediate(resolve));
          firstToken = false;
        }
      } else if (chunk.type === 'done') done = chunk;
    }
    if (!done) throw new ActionError('internal', 'the model stream ended without a final chunk');
    // Providers that send no usage (some local servers) are billed by our own count.
    const u = done.usage ?? { promptTokens: countChatTokens(msgs, agent.model), completionTokens: countTokens(done.text, agent.model), totalTokens: 0 };
    run.usage.promptTokens += u.promptTokens;
    run.usage.completionTokens += u.completionTokens;
    run.usage.totalTokens += u.totalTokens || u.promptTokens + u.completionTokens;
    modelMs += performance.now() - started;
    return done;
  };
  const rt: FlowRuntime<unknown> = {
    input,
    runId: run.runId,
    tenantId: run.tenantId,
    agent,
    conversationId,
    messages,
    signal: run.signal,
    events: run.events,
    model: callModel,
    tools: toolbox,
    log: run.log,
  };

  const graphStarted = performance.now();
  const state = await flow.invoke(rt, { signal: run.signal, recursionLimit: 50 }, run.durable);
  run.timings['flowMs'] = Math.round(performance.now() - graphStarted);
  run.timings['modelMs'] = Math.round(modelMs);
  if (run.signal.aborted) throw run.signal.reason;
  if (state.paused) {
    if (!isApprovalRequest(state.paused.value)) throw new Error(`flow "${flow.name}" paused on something other than an approval`);
    return { paused: state.paused.value };
  }
  const result = state.result ?? { text: '' };
  const output =
    Object.keys(notes).length > 0
      ? { ...(isRecord(result.output) ? result.output : result.output === undefined ? {} : { value: result.output }), ...notes }
      : result.output;

  return output === undefined ? { text: result.text, turns: result.turns ?? [] } : { text: result.text, output, turns: result.turns ?? [] };
}
