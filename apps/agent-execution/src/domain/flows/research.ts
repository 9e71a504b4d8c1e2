import { Annotation, END, START, StateGraph } from '@langchain/langgraph';
import { z } from 'zod';
import { defineFlow, type FlowOutput } from './define-flow.js';
import type { ToolOutcome } from '../tools/toolbox.js';

const State = Annotation.Root({
  findings: Annotation<ToolOutcome[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
  result: Annotation<FlowOutput | null>({ reducer: (_a, b) => b, default: () => null }),
});

/**
 * Several tool calls in a row, each a live step with progress: search the knowledge base, read the
 * clock, then let the model write a brief from what the tools returned.
 */
export const researchFlow = defineFlow({
  name: 'research',
  description: 'Researches a question with several tools in a row (knowledge search, clock) and writes a short brief.',
  input: z.object({
    question: z.string().min(1).max(4_000).meta({ title: 'Question', description: 'What to look up in the knowledge base and answer.' }),
  }),
  conversation: 'none',
  build: (rt) => {
    const call = (name: string, args: Record<string, unknown>, progress: number) =>
      rt.tools.call({ id: `${rt.runId}:${name}`, name, arguments: JSON.stringify(args) }, progress);
    return new StateGraph(State)
      .addNode('search', async () => ({ findings: [await call('search_knowledge', { query: rt.input.question }, 20)] }))
      .addNode('clock', async () => ({ findings: [await call('current_time', { timezone: 'UTC' }, 45)] }))
      .addNode('brief', async (s) => {
        rt.events.step('log', 'writing brief', { sources: s.findings.length }, 70);
        const notes = s.findings.map((f) => `${f.call.name}: ${f.content}`).join('\n');
        const reply = await rt.model([
          { role: 'system', content: 'Write a short brief answering the question from the notes only. Say what the notes do not cover.' },
          { role: 'user', content: `Question: ${rt.input.question}\nNotes:\n${notes}` },
        ]);
        rt.events.step('log', 'done', undefined, 100);
        return { result: { text: reply.text, output: { question: rt.input.question, tools: s.findings.map((f) => ({ name: f.call.name, ok: f.ok })) } } };
      })
      .addEdge(START, 'search')
      .addEdge('search', 'clock')
      .addEdge('clock', 'brief')
      .addEdge('brief', END)
      .compile();
  },
});
