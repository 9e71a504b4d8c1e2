// query.ingest_document / search / list / delete through the bus, against the real service process.
import { ActionError } from '@parley/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCorpus, startQueryHarness, type QueryHarness } from '../testing/harness.js';

let h: QueryHarness;
const A = 'tenant-a';
const B = 'tenant-b';
const ids = new Map<string, string>();

beforeAll(async () => {
  h = await startQueryHarness();
  for (const doc of loadCorpus()) {
    const info = await h.bus.call(
      'query.ingest_document',
      {
        title: doc.title,
        ...(doc.markdown ? { markdown: doc.markdown } : { text: doc.text! }),
        source: `fixtures/${doc.file}`,
        chunking: { maxTokens: 120, overlapTokens: 20 },
      },
      h.meta(A),
    );
    expect(info.outcome).toBe('created');
    ids.set(doc.file, info.documentId);
  }
}, 60_000);
afterAll(async () => h?.stop());

async function top(query: string, tenant = A, topK = 3) {
  return (await h.bus.call('query.search', { query, topK }, h.meta(tenant))).hits;
}

describe('ingest', () => {
  it('stores documents with chunks, language and source', async () => {
    const list = await h.bus.call('query.list_documents', {}, h.meta(A));
    expect(list.items).toHaveLength(5);
    const es = list.items.find((d) => d.source === 'fixtures/politica-devoluciones.md')!;
    expect(es).toMatchObject({ language: 'spanish', title: 'Política de devoluciones' });
    expect(list.items.find((d) => d.source === 'fixtures/returns-policy.md')).toMatchObject({ language: 'english' });
    for (const d of list.items) expect(d.chunks).toBeGreaterThan(0);
    const rows = await h.pool.query('select count(*)::int as n from knowledge_chunks where tenant_id = $1', [A]);
    expect(rows.rows[0].n).toBe(list.items.reduce((s, d) => s + d.chunks, 0));
  });
});

describe('search finds the right chunk for paraphrased questions', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['How long before the refund shows up on my original payment method?', 'Returns and refunds policy', /credited to the original payment method/],
    ['I lost my password and cannot sign in, what should I do?', 'Account and security', /Forgot password/],
    ['how do I remove limescale from the boiler', 'Barista One espresso machine', /descaler/],
    ['Do I pay customs duties when ordering from abroad?', 'Shipping and delivery', /import duties/],
    ['¿Cuánto tarda en llegar el reembolso de mi compra?', 'Política de devoluciones', /diez días hábiles/],
    ['¿A qué hora puedo llamar al servicio de atención al cliente?', 'Política de devoluciones', /lunes a viernes/],
  ];
  for (const [question, title, expected] of cases) {
    it(question, async () => {
      const hits = await top(question);
      expect(hits.length).toBeGreaterThan(0);
      expect(hits[0]!.title).toBe(title);
      expect(hits[0]!.text).toMatch(expected);
      expect(hits[0]!.score).toBeGreaterThan(0);
      expect(hits[0]!.heading).toContain(title);
    });
  }

  it('ranks by meaning even when no word is shared exactly with the heading', async () => {
    const hits = await top('protect my login with a second step using an authenticator app on my phone');
    expect(hits[0]!.text).toMatch(/two-factor\s+authentication/);
    expect(hits[0]!.similarity).toBeGreaterThan(0.25);
  });

  it('filters on document metadata and knowledge base', async () => {
    await h.bus.call(
      'query.ingest_document',
      {
        title: 'Pro plan FAQ',
        text: 'The pro plan includes priority support and a dedicated account manager.',
        knowledgeBaseId: 'pro',
        metadata: { plan: 'pro' },
      },
      h.meta(A),
    );
    const inKb = await h.bus.call('query.search', { query: 'priority support account manager', knowledgeBaseId: 'pro', topK: 5 }, h.meta(A));
    expect(inKb.hits.map((x) => x.title)).toEqual(['Pro plan FAQ']);
    const filtered = await h.bus.call('query.search', { query: 'support', filters: { plan: 'pro' }, topK: 5 }, h.meta(A));
    expect(filtered.hits.every((x) => x.title === 'Pro plan FAQ')).toBe(true);
    const other = await h.bus.call('query.search', { query: 'priority support account manager', knowledgeBaseId: 'default', topK: 5 }, h.meta(A));
    expect(other.hits.some((x) => x.title === 'Pro plan FAQ')).toBe(false);
  });
});

describe('queries at the edges', () => {
  it('rejects an empty or blank query with a clear error', async () => {
    await expect(h.bus.call('query.search', { query: '' }, h.meta(A))).rejects.toMatchObject({ code: 'invalid_payload' });
    const blank = await h.bus.call('query.search', { query: '   \n ' }, h.meta(A)).catch((e: unknown) => e);
    expect(blank).toBeInstanceOf(ActionError);
    expect(blank).toMatchObject({ code: 'invalid_payload', message: expect.stringContaining('query is empty') });
  });

  it('rejects a query over 4,000 characters and answers a long one', async () => {
    await expect(h.bus.call('query.search', { query: 'refund '.repeat(1000) }, h.meta(A))).rejects.toMatchObject({ code: 'invalid_payload' });
    const long = `${'I would like to know, please, '.repeat(100)} how long a refund takes after a return`.slice(0, 4_000);
    const hits = await top(long);
    expect(hits[0]!.title).toBe('Returns and refunds policy');
  });

  it('a question in a language the corpus does not have gets no full-text matches, only close meanings if any', async () => {
    const hits = await top('Wie lange dauert die Rückerstattung meines Geldes?', A, 5);
    expect(hits.length).toBeLessThanOrEqual(2);
    for (const hit of hits) {
      expect(hit.textRank).toBeNull();
      expect(hit.similarity).toBeGreaterThanOrEqual(0.3);
    }
    expect(await top('What is the capital of Mongolia?')).toEqual([]);
  });

  it('on one topic, a Spanish question prefers the Spanish document and an English one the English document', async () => {
    expect((await top('¿Cuánto tardan los reembolsos?'))[0]!.title).toBe('Política de devoluciones');
    expect((await top('how long does a refund take'))[0]!.title).toBe('Returns and refunds policy');
  });

  it('search syntax of websearch_to_tsquery works: quoted phrases', async () => {
    const hits = await top('"prepaid label"');
    expect(hits[0]!.text).toMatch(/prepaid label/);
  });
});

describe('re-ingest, delete, isolation', () => {
  it('re-ingesting the same content changes nothing; new content replaces the old chunks', async () => {
    const doc = loadCorpus().find((d) => d.file === 'shipping.md')!;
    const again = await h.bus.call(
      'query.ingest_document',
      { title: doc.title, markdown: doc.markdown!, source: 'fixtures/shipping.md', chunking: { maxTokens: 120, overlapTokens: 20 } },
      h.meta(A),
    );
    expect(again).toMatchObject({ outcome: 'unchanged', documentId: ids.get('shipping.md') });

    const edited = doc.markdown!.replace('Express delivery arrives the next working day.', 'Express delivery by drone arrives within four hours.');
    const replaced = await h.bus.call(
      'query.ingest_document',
      { title: doc.title, markdown: edited, source: 'fixtures/shipping.md', chunking: { maxTokens: 120, overlapTokens: 20 } },
      h.meta(A),
    );
    expect(replaced).toMatchObject({ outcome: 'replaced', documentId: ids.get('shipping.md') });
    const hits = await top('drone delivery');
    expect(hits[0]!.text).toMatch(/drone/);
    const old = await h.pool.query(`select count(*)::int as n from knowledge_chunks where document_id = $1 and text like '%next working day%'`, [
      ids.get('shipping.md'),
    ]);
    expect(old.rows[0].n).toBe(0);
    const docs = await h.pool.query(`select count(*)::int as n from knowledge_documents where tenant_id = $1 and source = 'fixtures/shipping.md'`, [A]);
    expect(docs.rows[0].n).toBe(1);
  });

  it('tenant B can never see, list or delete tenant A’s knowledge', async () => {
    expect(await top('How many days until my money is refunded?', B)).toEqual([]);
    expect((await h.bus.call('query.list_documents', {}, h.meta(B))).items).toEqual([]);
    const del = await h.bus.call('query.delete_document', { documentId: ids.get('returns-policy.md')! }, h.meta(B));
    expect(del.deleted).toBe(false);
    const answer = await h.bus.call('query.answer', { question: 'How many days until my money is refunded?' }, h.meta(B));
    expect(answer).toMatchObject({ grounded: false, citations: [] });
    // B's own document with the same words is B's only.
    await h.bus.call(
      'query.ingest_document',
      { title: 'B refunds', text: 'Refunds at tenant B take ninety days.', source: 'fixtures/returns-policy.md' },
      h.meta(B),
    );
    expect((await top('refund days', B)).map((x) => x.title)).toEqual(['B refunds']);
    expect((await top('refund days', A)).some((x) => x.title === 'B refunds')).toBe(false);
  });

  it('delete removes the document and its chunks', async () => {
    const id = ids.get('coffee-machine-manual.txt')!;
    expect(await h.bus.call('query.delete_document', { documentId: id }, h.meta(A))).toEqual({ documentId: id, deleted: true });
    expect(await h.bus.call('query.delete_document', { documentId: id }, h.meta(A))).toEqual({ documentId: id, deleted: false });
    const rows = await h.pool.query('select count(*)::int as n from knowledge_chunks where document_id = $1', [id]);
    expect(rows.rows[0].n).toBe(0);
    const hits = await top('how do I remove limescale from the boiler');
    expect(hits.some((x) => x.documentId === id)).toBe(false);
  });

  it('lists documents newest first, page by page', async () => {
    const first = await h.bus.call('query.list_documents', { limit: 2 }, h.meta(A));
    expect(first.items).toHaveLength(2);
    expect(first.nextCursor).not.toBeNull();
    const seen = [...first.items];
    let cursor = first.nextCursor;
    while (cursor) {
      const page = await h.bus.call('query.list_documents', { limit: 2, cursor }, h.meta(A));
      seen.push(...page.items);
      cursor = page.nextCursor;
    }
    expect(new Set(seen.map((d) => d.documentId)).size).toBe(seen.length);
    expect(seen.length).toBe(5); // 5 corpus files - 1 deleted + the pro FAQ
    await expect(h.bus.call('query.list_documents', { cursor: 'nonsense' }, h.meta(A))).rejects.toMatchObject({ code: 'invalid_payload' });
  });
});
