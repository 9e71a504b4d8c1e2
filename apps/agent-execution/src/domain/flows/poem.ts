import { Annotation, END, START, StateGraph } from '@langchain/langgraph';
import { z } from 'zod';
import { defineFlow, type FlowOutput } from './define-flow.js';

const State = Annotation.Root({
  outline: Annotation<string>({ reducer: (_a, b) => b, default: () => '' }),
  result: Annotation<FlowOutput | null>({ reducer: (_a, b) => b, default: () => null }),
});

/** Two steps with progress: an outline (not streamed), then the poem (streamed). */
export const poemFlow = defineFlow({
  name: 'poem',
  description: 'Writes a short poem about a topic in two steps (outline, then poem), reporting progress.',
  input: z.object({
    topic: z.string().min(1).max(500).meta({ title: 'Topic', description: 'What the poem is about.' }),
    lines: z.number().int().min(2).max(24).default(4).meta({ title: 'Lines', description: 'How many lines the poem has (2 to 24).' }),
  }),
  conversation: 'none',
  build: (rt) =>
    new StateGraph(State)
      .addNode('plan', async () => {
        rt.events.step('log', 'outline', { topic: rt.input.topic }, 10);
        const reply = await rt.model(
          [
            { role: 'system', content: 'You plan poems. Reply with one line per stanza idea, nothing else.' },
            { role: 'user', content: `Outline a ${rt.input.lines}-line poem about ${rt.input.topic}.` },
          ],
          { silent: true },
        );
        rt.events.step('log', 'outline ready', { outline: reply.text }, 50);
        return { outline: reply.text };
      })
      .addNode('write', async (s) => {
        rt.events.step('log', 'writing', undefined, 60);
        const reply = await rt.model([
          { role: 'system', content: `${rt.agent.systemPrompt}\nYou write poems of exactly ${rt.input.lines} lines.` },
          { role: 'user', content: `Write the poem about ${rt.input.topic} following this outline:\n${s.outline}` },
        ]);
        rt.events.step('log', 'done', undefined, 100);
        return { result: { text: reply.text, output: { topic: rt.input.topic, outline: s.outline, poem: reply.text } } };
      })
      .addEdge(START, 'plan')
      .addEdge('plan', 'write')
      .addEdge('write', END)
      .compile(),
});
