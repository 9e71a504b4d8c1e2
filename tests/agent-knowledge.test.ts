import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createBus, type Bus } from '@parley/bus';
import { catalog, type Catalog, type RunEvent } from '@parley/contracts';
import { redisUrl } from '@parley/testing';
import { usePlatform } from './support/platform.js';

const platform = usePlatform('agentkb', { query: true });
let bus: Bus<Catalog>;

beforeAll(() => {
  bus = createBus({ catalog, redis: redisUrl, prefix: platform.prefix, service: 'test' });
});
afterAll(() => bus?.close(0));

describe('chat flow with the knowledge base', () => {
  test('search_knowledge goes through the query service and the answer cites the document', async () => {
    const meta = { tenantId: 'kb-tenant', userId: 'u1' };
    await bus.call(
      'query.ingest_document',
      { title: 'Warranty terms', text: 'Every espresso machine carries a warranty of two years covering the pump and the boiler.', source: 'warranty' },
      meta,
      { timeoutMs: 60_000 },
    );
    const events: RunEvent[] = [];
    const result = await bus.call(
      'agent.run',
      {
        runId: `run-${platform.prefix}`,
        conversationId: `conv-${platform.prefix}`,
        channel: 'api',
        input: { text: 'Search the knowledge base: how long is the warranty of the espresso machine?' },
      },
      meta,
      { timeoutMs: 60_000, onEvent: (e) => events.push(e) },
    );
    expect(result.status).toBe('SUCCEEDED');
    const call = events.find((e) => e.type === 'run.step' && e.kind === 'tool_call');
    expect(call).toMatchObject({ name: 'search_knowledge' });
    const toolResult = events.find((e) => e.type === 'run.step' && e.kind === 'tool_result');
    expect(JSON.stringify(toolResult)).toContain('Warranty terms');
    expect(result.text).toContain('Warranty terms');
    expect(result.text).toContain('"ref":1');
  });

  test('an empty knowledge base makes the tool say so instead of inventing', async () => {
    const events: RunEvent[] = [];
    const result = await bus.call(
      'agent.run',
      {
        runId: `run2-${platform.prefix}`,
        conversationId: `conv2-${platform.prefix}`,
        channel: 'api',
        input: { text: 'Search the knowledge base: what is the refund policy for lost luggage?' },
      },
      { tenantId: 'empty-tenant' },
      { timeoutMs: 60_000, onEvent: (e) => events.push(e) },
    );
    expect(result.status).toBe('SUCCEEDED');
    expect(result.text).toContain('nothing relevant');
  });
});
