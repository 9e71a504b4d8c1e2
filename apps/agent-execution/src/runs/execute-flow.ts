import type { Logger } from 'pino';
import { isRecord } from '@parley/service-kit';
import type { ActionMeta } from '@parley/bus';
import { ActionError, runAnswerMessageId, runTurnMessageId, type Channel, type Usage } from '@parley/contracts';
import { countChatTokens, countTokens, type ChatResult, type ModelClient } from '@parley/llm';
import type { AgentExecutionConfig } from '../env.js';
import type { ChatMessage, FlowRuntime, ModelCallOptions } from '../flows/define-flow.js';
import type { ToolDef } from '../tools/define-tool.js';
import { Toolbox } from '../tools/toolbox.js';
import type { Bus } from '@parley/bus';
import type { Catalog } from '@parley/contracts';
import type { Admitted } from './admission.js';
import type { ConversationPort } from './conversation-port.js';
import type { RunEvents } from './run-events.js';

export interface FlowExecution {
  bus: Bus<Catalog>;
  model: ModelClient;
  tools: readonly ToolDef[];
  conversation: ConversationPort;
  config: AgentExecutionConfig['runs'];
  admitted: Admitted;
  runId: string;
  tenantId: string;
  roles: readonly string[];
  channel: Channel;
  meta: ActionMeta;
  /** The model's messages, loaded by the run's ConversationTurn. */
  messages: ChatMessage[];
  /** When the run had its conversation (performance.now()): the answer's latency counts from there, queueing excluded. */
  startedAt: number;
  events: RunEvents;
  signal: AbortSignal;
  /** Summed over every model call of the run (mutated). */
  usage: Usage;
  timings: Record<string, number>;
  log: Logger;
  /** The run's conversation lock holder: its saves are refused (`conflict`) once another run owns the conversation. */
  fence: string | undefined;
  /** Called with the answer once the flow is done, before anything of it is saved (so a redelivery can tell a finished run). */
  produced: (answer: { text: string; output?: unknown; messageId?: string }) => Promise<void>;
}

/** Runs the flow's graph on the loaded conversation, saves what the run said. */
export async function executeFlow(x: FlowExecution): Promise<{ text: string; output?: unknown; messageId?: string }> {
  const { agent, flow, conversationId, input } = x.admitted;
  const memory = conversationId ? flow.conversation : 'none';
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

  if (memory !== 'write' || !conversationId) {
    const done = output === undefined ? { text: result.text } : { text: result.text, output };
    await x.produced(done);
    return done;
  }
  const messageId = runAnswerMessageId(x.runId);
  await x.produced(output === undefined ? { text: result.text, messageId } : { text: result.text, output, messageId });
  const turns = result.turns ?? [];
  for (const [i, turn] of turns.entries()) {
    await x.conversation.save(x.meta, conversationId, x.runId, agent.agentId, x.channel, { messageId: runTurnMessageId(x.runId, i + 1), ...turn }, x.fence, x.signal);
  }
  await x.conversation.save(
    x.meta,
    conversationId,
    x.runId,
    agent.agentId,
    x.channel,
    { messageId, role: 'assistant', content: result.text, model: agent.model, latencyMs: performance.now() - x.startedAt, usage: { ...x.usage } },
    x.fence,
    x.signal,
  );
  return output === undefined ? { text: result.text, messageId } : { text: result.text, output, messageId };
}
