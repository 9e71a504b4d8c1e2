import { Annotation, END, START, StateGraph } from '@langchain/langgraph';
import { z } from 'zod';
import { defineFlow, type FlowOutput } from './define-flow.js';

const State = Annotation.Root({ result: Annotation<FlowOutput | null>({ reducer: (_a, b) => b, default: () => null }) });

/** Summarizes the conversation the run belongs to (read from the conversation service within the token budget). */
export const summarizeConversationFlow = defineFlow({
  name: 'summarize_conversation',
  description: 'Summarizes the current conversation in a few sentences.',
  input: z.object({
    maxWords: z
      .number()
      .int()
      .min(10)
      .max(1_000)
      .default(120)
      .meta({ title: 'Maximum words', description: 'The summary is at most this many words (10 to 1000).' }),
  }),
  conversation: 'read',
  requiresConversation: true,
  build: (rt) =>
    new StateGraph(State)
      .addNode('summarize', async () => {
        const turns = rt.messages.filter((m) => m.role === 'user' || m.role === 'assistant');
        rt.events.step('log', 'reading conversation', { turns: turns.length }, 20);
        const transcript = turns.map((m) => `${m.role}: ${m.content}`).join('\n');
        const reply = await rt.model([
          { role: 'system', content: `Summarize the conversation below in at most ${rt.input.maxWords} words. Keep names, numbers and open questions.` },
          { role: 'user', content: transcript || '(the conversation is empty)' },
        ]);
        rt.events.step('log', 'summary ready', undefined, 100);
        return { result: { text: reply.text, output: { summary: reply.text, turns: turns.length } } };
      })
      .addEdge(START, 'summarize')
      .addEdge('summarize', END)
      .compile(),
});
