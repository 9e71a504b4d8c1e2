import { Annotation, END, START, StateGraph } from '@langchain/langgraph';
import { ChatInput } from '@parley/contracts';
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
});

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
      .addNode('tools', async (s) => {
        const last = s.messages[s.messages.length - 1];
        const results: ChatMessage[] = [];
        // One after the other, so steps arrive in the order the model asked for them.
        for (const call of last?.toolCalls ?? []) {
          const outcome = await rt.tools.call(call);
          results.push({ role: 'tool', content: outcome.content, toolCallId: call.id });
        }
        return { messages: results, turns: results, pendingTools: false };
      })
      .addEdge(START, 'agent')
      .addConditionalEdges('agent', (s) => (s.pendingTools ? 'tools' : END), ['tools', END])
      .addEdge('tools', 'agent')
      .compile(),
});
