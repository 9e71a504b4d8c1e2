import { Annotation, END, interrupt, START, StateGraph } from '@langchain/langgraph';
import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { describe, expect } from 'vitest';
import { z } from 'zod';
import { pgTest as test } from '@parley/testing';
import { defineFlow, FlowRegistry, type FlowOutput, type FlowRuntime } from './define-flow.js';

const State = Annotation.Root({
  steps: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
  result: Annotation<FlowOutput | null>({ reducer: (_a, b) => b, default: () => null }),
});

/** Work, then a question to a person, then an answer built from both: what a gated tool call looks like. */
const ask = defineFlow({
  name: 'ask',
  description: 'asks before it answers',
  input: z.object({ text: z.string() }),
  conversation: 'none',
  build: (rt) =>
    new StateGraph(State)
      .addNode('work', () => ({ steps: [`worked on ${rt.input.text}`] }))
      .addNode('ask', () => ({ steps: [`told ${interrupt<{ q: string }, string>({ q: rt.input.text })}`] }))
      .addNode('answer', (s) => ({ result: { text: s.steps.join(', ') } }))
      .addEdge(START, 'work')
      .addEdge('work', 'ask')
      .addEdge('ask', 'answer')
      .addEdge('answer', END)
      .compile(),
});

const runtime = (text: string) => ({ input: { text } }) as unknown as FlowRuntime<unknown>;
const opts = () => ({ signal: new AbortController().signal, recursionLimit: 10 });

describe('durable flow graphs (PostgresSaver)', () => {
  test('a run pauses on interrupt and another process (its own pool and saver) resumes it from the checkpoint; deleting the thread forgets it', async ({
    db,
    onTestFinished,
  }) => {
    const pools = [new pg.Pool({ connectionString: db.url, max: 2 }), new pg.Pool({ connectionString: db.url, max: 2 })];
    onTestFinished(async () => {
      await Promise.all(pools.map((p) => p.end()));
    });
    const [a, b] = pools.map((p) => new PostgresSaver(p, undefined, { schema: 'langgraph' })) as [PostgresSaver, PostgresSaver];
    const first = new FlowRegistry([ask], a).get('ask')!;
    const second = new FlowRegistry([ask], b).get('ask')!;
    const threadId = randomUUID();

    expect(await first.invoke(runtime('the refund'), opts(), { threadId })).toEqual({ paused: { value: { q: 'the refund' } } });
    // The node before the pause ran once and is not run again on resume: its write is in the checkpoint.
    const resumed = await second.invoke(runtime('the refund'), opts(), { threadId, resume: 'yes' });
    expect(resumed.result).toEqual({ text: 'worked on the refund, told yes' });

    await b.deleteThread(threadId);
    expect(await b.getTuple({ configurable: { thread_id: threadId } })).toBeUndefined();
  });

  test('a flow without a checkpointer refuses a durable run instead of running it unsaved', async () => {
    const flow = new FlowRegistry([ask]).get('ask')!;
    await expect(flow.invoke(runtime('x'), opts(), { threadId: randomUUID() })).rejects.toThrow(/no checkpointer/);
  });
});
