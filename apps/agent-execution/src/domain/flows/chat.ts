import { Annotation, END, interrupt, START, StateGraph } from '@langchain/langgraph';
import { ChatInput } from '@parley/contracts';
import type { ApprovalRequest, ApprovalResume } from '../tools/approval.js';
import { defineFlow, type ChatMessage, type FlowOutput } from './define-flow.js';

/** Model turns before the agent must answer without tools (a model that keeps calling tools would loop forever). */
const MAX_TOOL_ROUNDS = 6;

const State = Annotation.Root({
  messages: Annotation<ChatMessage[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
  /** Turns this run added (assistant tool calls, tool results), to save in the conversation. */
  turns: Annotation<ChatMessage[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
  text: Annotation<string>({ reducer: (a, b) => a + b, default: () => '' }),
  rounds: Annotation<number>({ reducer: (a, b) => a + b, default: () => 0 }),
  pendingTools: Annotation<boolean>({ reducer: (_a, b) => b, default: () => false }),
  result: Annotation<FlowOutput | null>({ reducer: (_a, b) => b, default: () => null }),
  /** The decisions on this round's gated calls, by tool call id (set by `approve`, read by `tools`). */
  decisions: Annotation<Record<string, ApprovalResume>>({ reducer: (_a, b) => b, default: () => ({}) }),
});

const lastCalls = (messages: readonly ChatMessage[]) => messages[messages.length - 1]?.toolCalls ?? [];

/** The conversational agent: the model answers, calling the agent's tools (knowledge search, time, hand-off) as it sees fit. */
export const chatFlow = defineFlow({
  name: 'chat',
  description: 'The conversational agent: answers with the model, using knowledge search, the current time and hand-off to a human.',
  input: ChatInput,
  conversation: 'write',
  userMessage: (input) => ({ text: input.text, messageId: input.messageId }),
  build: (rt) =>
    new StateGraph(State)
      .addNode('agent', async (s) => {
        const lastRound = s.rounds >= MAX_TOOL_ROUNDS;
        const reply = await rt.model([...rt.messages, ...s.messages], lastRound ? {} : { tools: rt.tools.specs() });
        // The answer ends the graph here: one step fewer than a separate finishing node, on every run.
        if (reply.toolCalls.length === 0) return { text: reply.text, rounds: 1, pendingTools: false, result: { text: s.text + reply.text, turns: s.turns } };
        const turn: ChatMessage = { role: 'assistant', content: reply.text, toolCalls: reply.toolCalls };
        return { messages: [turn], turns: [turn], text: reply.text, rounds: 1, pendingTools: true };
      })
      // Pauses on each call that needs a person (one interrupt per call, in order). Nothing else happens in this node:
      // on resume LangGraph runs it again from the top, and only interrupts are safe to repeat.
      .addNode('approve', (s) => {
        const decisions: Record<string, ApprovalResume> = {};
        for (const call of lastCalls(s.messages)) {
          if (!rt.tools.requiresApproval(call.name)) continue;
          decisions[call.id] = interrupt<ApprovalRequest, ApprovalResume>({ approvalId: call.id, tool: call.name, args: parseArgs(call.arguments) });
        }
        return { decisions };
      })
      .addNode('tools', async (s) => {
        const results: ChatMessage[] = [];
        // One after the other, so steps arrive in the order the model asked for them.
        for (const call of lastCalls(s.messages)) {
          const decided = s.decisions[call.id];
          const outcome =
            decided?.decision === 'reject'
              ? rt.tools.reject(call, decided.reason)
              : await rt.tools.call(
                  decided?.decision === 'edit' ? { ...call, arguments: JSON.stringify(decided.args) } : call,
                  undefined,
                  decided !== undefined,
                );
          results.push({ role: 'tool', content: outcome.content, toolCallId: call.id });
        }
        return { messages: results, turns: results, pendingTools: false };
      })
      .addEdge(START, 'agent')
      .addConditionalEdges(
        'agent',
        (s) => (!s.pendingTools ? END : lastCalls(s.messages).some((c) => rt.tools.requiresApproval(c.name)) ? 'approve' : 'tools'),
        ['approve', 'tools', END],
      )
      .addEdge('approve', 'tools')
      .addEdge('tools', 'agent')
      .compile(),
});

function parseArgs(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
