// query.answer through the bus: grounded answers cite the chunks they used; nothing relevant → a plain "not found".
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCorpus, modelRequests, startQueryHarness, type QueryHarness } from '../testing/harness.js';

let h: QueryHarness;
const T = 'tenant-answers';

beforeAll(async () => {
  h = await startQueryHarness();
  for (const doc of loadCorpus()) {
    await h.bus.call(
      'query.ingest_document',
      { title: doc.title, ...(doc.markdown ? { markdown: doc.markdown } : { text: doc.text! }), source: doc.file },
      h.meta(T),
    );
  }
}, 60_000);
afterAll(async () => h?.stop());

describe('query.answer', () => {
  it('answers from the knowledge base and cites the chunks it used', async () => {
    h.dev.control.reset();
    h.dev.control.apply({ retryAfterMs: 1 });
    const reply = await h.bus.call('query.answer', { question: 'How long before the refund shows up on my original payment method?', topK: 3 }, h.meta(T));
    expect(reply.grounded).toBe(true);
    expect(reply.answer.length).toBeGreaterThan(0);
    expect(reply.citations.length).toBeGreaterThan(0);
    expect(reply.citations[0]!.text).toMatch(/credited to the original payment method/);
    expect(reply.citations[0]!.heading).toBe('Returns and refunds policy › Refunds');
    expect(reply.usage?.totalTokens).toBeGreaterThan(0);
    // The prompt the model saw holds the cited chunk as a numbered source and the question.
    expect(reply.answer).toContain('[1] Returns and refunds policy › Refunds');
    expect(modelRequests(h.dev).chat).toBe(1);
  });

  it('uses the conversation context in the prompt', async () => {
    const reply = await h.bus.call(
      'query.answer',
      { question: 'And how do I reset my password?', conversationContext: 'user: I cannot sign in to my account', topK: 2 },
      h.meta(T),
    );
    expect(reply.grounded).toBe(true);
    expect(reply.citations.map((c) => c.heading)).toContain('Account and security › Resetting your password');
    expect(reply.answer).toContain('Conversation so far');
  });

  it('says plainly when nothing relevant is known, without asking the model', async () => {
    h.dev.control.reset();
    const reply = await h.bus.call('query.answer', { question: 'What is the capital of Mongolia?' }, h.meta(T));
    expect(reply).toEqual({ answer: "I couldn't find anything about that in the knowledge base.", grounded: false, citations: [] });
    expect(modelRequests(h.dev).chat).toBe(0);
    const es = await h.bus.call('query.answer', { question: '¿Cuál es la capital de Mongolia?' }, h.meta(T));
    expect(es).toMatchObject({ answer: 'No encontré información sobre eso en la base de conocimiento.', grounded: false });
  });

  it('answers in Spanish from the Spanish document', async () => {
    const reply = await h.bus.call('query.answer', { question: '¿En cuántos días me devuelven el dinero del reembolso?' }, h.meta(T));
    expect(reply.grounded).toBe(true);
    expect(reply.citations[0]!.title).toBe('Política de devoluciones');
  });

  it('a failing chat model is a clear, retryable error; a failing embeddings endpoint only degrades retrieval', async () => {
    h.dev.control.reset();
    h.dev.control.apply({ retryAfterMs: 1, failNext: { status: 500, count: 2 } });
    const err = await h.bus
      .call('query.answer', { question: 'How long before the refund shows up on my original payment method?' }, h.meta(T))
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'unavailable', retryable: true });
    expect((err as Error).message).toMatch(/asking the model for an answer failed \(HTTP 500\)/);
    h.dev.control.reset();
  });
});
