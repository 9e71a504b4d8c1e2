import type { Logger } from 'pino';
import { isRecord } from '@parley/service-kit';
import type { ActionMeta, Bus } from '@parley/bus';
import { ActionError, type Catalog, type Usage } from '@parley/contracts';
import { countChatTokens, countTokens, type ChatResult, type ModelClient } from '@parley/llm';
import type { AgentExecutionConfig } from '../../env.js';
import type { ChatMessage, FlowRuntime, ModelCallOptions } from '../flows/define-flow.js';
import type { ToolDef } from '../tools/define-tool.js';
import { Toolbox } from '../tools/toolbox.js';
import type { Admitted } from './admission.js';
import type { RunEvents } from './run-events.js';

export interface FlowExecution {
  bus: Bus<Catalog>;
  model: ModelClient;
  tools: readonly ToolDef[];
  config: AgentExecutionConfig['runs'];
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
}

/** What a flow produced: its answer, and the turns (tool calls and results) to save before it. */
export interface FlowAnswer {
  text: string;
  output?: unknown;
  turns: ChatMessage[];
}

/** Runs the flow's graph on the run's messages, streaming its tokens and steps; saves nothing. */
export async function runFlow(x: FlowExecution): Promise<FlowAnswer> {
  const { agent, flow, conversationId, input } = x.admitted;
  const messages = x.messages;
  const notes: Record<string, unknown> = {};
  let modelMs = 0;
  const toolbox = new Toolbox(
    x.tools,
    agent.tools,
    x.roles,
    { bus: x.bus, meta: x.meta, runId: x.runId, tenantId: x.tenantId, conversationId, signal: x.signal, timeoutMs: x.config.toolTimeoutMs, log: x.log, note: (k, v) => (notes[k] = v) },
    x.events,
  );
  const callModel = async (msgs: readonly ChatMessage[], opts: ModelCallOptions = {}): Promise<ChatResult> => {
    const started = performance.now();
    let done: ChatResult | undefined;
    let firstToken = true;
    const request = { messages: msgs, temperature: agent.temperature, model: agent.model, signal: x.signal, ...(opts.tools?.length ? { tools: opts.tools } : {}), ...(opts.maxTokens ? { maxTokens: opts.maxTokens } : {}) };
    for await (const chunk of x.model.streamChat(request)) {
      if (chunk.type === 'token') {
        if (!opts.silent) {
          x.events.token(chunk.delta);
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
    x.usage.promptTokens += u.promptTokens;
    x.usage.completionTokens += u.completionTokens;
    x.usage.totalTokens += u.totalTokens || u.promptTokens + u.completionTokens;
    modelMs += performance.now() - started;
    return done;
  };
  const rt: FlowRuntime<unknown> = { input, runId: x.runId, tenantId: x.tenantId, agent, conversationId, messages, signal: x.signal, events: x.events, model: callModel, tools: toolbox, log: x.log };

  const graphStarted = performance.now();
  const state = await flow.invoke(rt, { signal: x.signal, recursionLimit: 50 });
  x.timings['flowMs'] = Math.round(performance.now() - graphStarted);
  x.timings['modelMs'] = Math.round(modelMs);
  if (x.signal.aborted) throw x.signal.reason;
  const result = state.result ?? { text: '' };
  const output = Object.keys(notes).length > 0 ? { ...(isRecord(result.output) ? result.output : result.output === undefined ? {} : { value: result.output }), ...notes } : result.output;

  return output === undefined ? { text: result.text, turns: result.turns ?? [] } : { text: result.text, output, turns: result.turns ?? [] };
}
