import { Annotation, END, START, StateGraph } from '@langchain/langgraph';
import { AsyncLocalStorageProviderSingleton } from '@langchain/core/singletons';
import { describe, expect, test } from 'vitest';
import { z } from 'zod';
import { defineFlow, FlowRegistry, type FlowOutput, type FlowRuntime } from './define-flow.js';

const State = Annotation.Root({ result: Annotation<FlowOutput | null>({ reducer: (_a, b) => b, default: () => null }) });

const echo = defineFlow({
  name: 'echo',
  description: 'answers with its input after a pause',
  input: z.object({ text: z.string() }),
  conversation: 'none',
  build: (rt) =>
    new StateGraph(State)
      .addNode('answer', async () => {
        const text = rt.input.text;
        await new Promise((r) => setTimeout(r, Math.random() * 5));
        return { result: { text: `${text}/${rt.runId}` } };
      })
      .addEdge(START, 'answer')
      .addEdge('answer', END)
      .compile(),
});

const runtime = (runId: string, text: string) => ({ runId, input: { text } }) as unknown as FlowRuntime<unknown>;

describe('flow graphs compiled once', () => {
  test('runs executing the same graph at once each see their own runtime', async () => {
    const flow = new FlowRegistry([echo]).get('echo')!;
    const ids = Array.from({ length: 40 }, (_, i) => i);
    const states = await Promise.all(
      ids.map((i) => flow.invoke(runtime(`run-${i}`, `text-${i}`), { signal: new AbortController().signal, recursionLimit: 10 })),
    );
    expect(states.map((s) => s.result?.text)).toEqual(ids.map((i) => `text-${i}/run-${i}`));
  });

  test('a flow that reads its runtime while building is refused when registered, naming what it read', () => {
    const eager = defineFlow({
      ...echo,
      name: 'eager',
      build: (rt) => {
        const topic = rt.input.text;
        return new StateGraph(State)
          .addNode('n', () => ({ result: { text: topic } }))
          .addEdge(START, 'n')
          .addEdge('n', END)
          .compile();
      },
    });
    expect(() => new FlowRegistry([eager])).toThrow(/its runtime \("input"\) outside a run/);
  });

  test('nodes get their run without a LangSmith RunTree per runnable when nothing traces (patches/@langchain__core)', async () => {
    let store: unknown;
    const probe = defineFlow({
      ...echo,
      name: 'probe',
      build: (rt) =>
        new StateGraph(State)
          .addNode('n', () => {
            store = AsyncLocalStorageProviderSingleton.getInstance().getStore();
            return { result: { text: rt.runId } };
          })
          .addEdge(START, 'n')
          .addEdge('n', END)
          .compile(),
    });
    const state = await new FlowRegistry([probe]).get('probe')!.invoke(runtime('run-p', 'x'), { signal: new AbortController().signal, recursionLimit: 10 });
    expect(state.result?.text).toBe('run-p');
    // The store still carries the node's config (what getConfig() reads), in a plain object.
    expect(store).toBeTypeOf('object');
    expect((store as object).constructor.name).not.toBe('RunTree');
  });
});
