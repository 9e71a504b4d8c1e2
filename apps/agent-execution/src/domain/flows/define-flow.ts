import type { BaseCheckpointSaver, Command } from '@langchain/langgraph';
import { z } from 'zod';
import type { AgentConfig, ContextMessage, FlowInfo } from '@parley/contracts';
import type { ChatResult, ToolSpec } from '@parley/llm';
import type { Logger } from 'pino';
import type { RunEvents } from '../runs/run-events.js';
import type { Toolbox } from '../tools/toolbox.js';
import { compileFlow, type FlowInvoker } from './flow-graph.js';

export type ChatMessage = ContextMessage;

export interface ModelCallOptions {
  tools?: ToolSpec[];
  maxTokens?: number;
  /** Do not stream this call's tokens to the caller (an intermediate step, e.g. an outline). */
  silent?: boolean;
}

/** What a flow's graph gets for one run. Built by the run executor; flows never see the bus or Redis. */
export interface FlowRuntime<I> {
  input: I;
  runId: string;
  tenantId: string;
  agent: AgentConfig;
  conversationId: string | null;
  /** The agent's system prompt, then the conversation's turns that fit the budget (with the user's new message last, when the flow has one). */
  messages: ChatMessage[];
  signal: AbortSignal;
  /** Live steps and tokens (numbered, logged, streamed). */
  events: RunEvents;
  /** One model call: tokens are streamed as `run.token` events, usage is added to the run. Throws ModelError. */
  model(messages: readonly ChatMessage[], options?: ModelCallOptions): Promise<ChatResult>;
  tools: Toolbox;
  log: Logger;
}

/** What a graph leaves in its `result` channel. */
export interface FlowOutput {
  /** The assistant's answer (for conversational flows, exactly the concatenation of the streamed tokens). */
  text: string;
  output?: unknown;
  /** Turns to append to the conversation before the final answer (tool calls and their results). */
  turns?: ChatMessage[];
}

/** The one method of a compiled LangGraph graph the executor relies on. */
export interface FlowGraph {
  invoke(
    input: Record<string, never> | Command<unknown, Record<string, never>, never>,
    options: { signal: AbortSignal; recursionLimit: number; configurable: Record<string, unknown> },
  ): Promise<{ result?: FlowOutput | null }>;
}

export interface FlowDefinition<S extends z.ZodType = z.ZodType> {
  name: string;
  description: string;
  input: S;
  /**
   * none: never touches the conversation; read: gets its context; write: also saves the user's
   * message (from `userMessage`) before the run and the answer after it.
   */
  conversation: 'none' | 'read' | 'write';
  /** The run cannot start without a conversation. */
  requiresConversation?: boolean;
  userMessage?: (input: z.output<S>) => { text: string; messageId?: string | undefined };
  /**
   * The flow's graph. Called once per process: `rt` stands for whichever run the graph executes,
   * so read it inside nodes (and edge functions), never while building.
   */
  build(rt: FlowRuntime<z.output<S>>): FlowGraph;
}

/** A flow as the registry holds it: its definition and its graph, compiled once. */
export interface RegisteredFlow extends FlowDefinition {
  invoke: FlowInvoker;
}

export function defineFlow<S extends z.ZodType>(def: FlowDefinition<S>): FlowDefinition<S> {
  return def;
}

/** The flows of this service, by name. */
export class FlowRegistry {
  private readonly flows = new Map<string, RegisteredFlow>();

  /** `saver`: checkpoints of runs that may pause for an approval (absent: no run can pause). */
  constructor(flows: readonly FlowDefinition[], saver?: BaseCheckpointSaver) {
    for (const f of flows) {
      if (this.flows.has(f.name)) throw new Error(`flow "${f.name}" is registered twice`);
      this.flows.set(f.name, { ...f, invoke: compileFlow(f, saver) });
    }
  }

  get(name: string): RegisteredFlow | undefined {
    return this.flows.get(name);
  }

  names(): string[] {
    return [...this.flows.keys()];
  }

  describe(): FlowInfo[] {
    return [...this.flows.values()].map((f) => {
      const { $schema: _ignored, ...inputSchema } = z.toJSONSchema(f.input, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
      return { name: f.name, description: f.description, inputSchema, conversation: f.conversation, requiresConversation: f.requiresConversation ?? false };
    });
  }
}
