/**
 * GET /api/v1/runs: newest first, filtered by status, flow and agent, paged by cursor; a plain user lists only
 * their own runs, staff the tenant's, nobody another tenant's.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { token } from './support/gateway-env.js';
import { usePlatform } from './support/platform.js';

const platform = usePlatform('gwruns', { gateway: {} });

const h = (t: string) => ({ authorization: `Bearer ${t}`, 'content-type': 'application/json' });
const admin = token({ sub: 'ops', tenant: 'r1', roles: ['admin'] });
const user = token({ sub: 'someone', tenant: 'r1' });
const neighbour = token({ sub: 'neighbour', tenant: 'r1' });
const otherAdmin = token({ sub: 'ops2', tenant: 'r2', roles: ['admin'] });

type Run = { runId: string; flow: string; status: string; agentId: string; ownerId: string; createdAt: string };
type Page = { items: Run[]; nextCursor: string | null };
type Err = { error: { code: string; details?: { fields?: string[] } } };

const list = async (t: string, query = '') => {
  const res = await fetch(`${platform.gw.http}/api/v1/runs${query}`, { headers: h(t) });
  return { status: res.status, body: (await res.json()) as Page & Err };
};
const start = async (t: string, body: Record<string, unknown>) => {
  const res = await fetch(`${platform.gw.http}/api/v1/runs/wait`, { method: 'POST', headers: h(t), body: JSON.stringify({ ...body, timeoutMs: 30_000 }) });
  expect(res.status).toBe(200);
  return ((await res.json()) as { runId: string }).runId;
};

const mine: string[] = [];
let theirs = '';
beforeAll(async () => {
  for (const topic of ['sea', 'moon', 'sky']) mine.push(await start(user, { flow: 'poem', input: { topic } }));
  mine.push(await start(user, { input: { text: 'hello' } }));
  theirs = await start(neighbour, { flow: 'poem', input: { topic: 'rain' } });
});

describe('GET /api/v1/runs', () => {
  test("a plain user lists only their own runs; staff the tenant's; another tenant's admin none of them", async () => {
    const own = await list(user);
    expect(own.status).toBe(200);
    expect(own.body.items.map((r) => r.runId).sort()).toEqual([...mine].sort());
    expect(own.body.items.every((r) => r.ownerId === 'someone')).toBe(true);
    expect((await list(neighbour)).body.items.map((r) => r.runId)).toEqual([theirs]);

    const tenant = await list(admin);
    expect(tenant.body.items.map((r) => r.runId).sort()).toEqual([...mine, theirs].sort());
    const created = tenant.body.items.map((r) => Date.parse(r.createdAt));
    expect(created).toEqual([...created].sort((a, b) => b - a));
    expect((await list(otherAdmin)).body.items).toEqual([]);
  });

  test('filters by status, flow and agent', async () => {
    const poems = await list(user, '?flow=poem&status=SUCCEEDED');
    expect(poems.body.items.map((r) => r.runId).sort()).toEqual(mine.slice(0, 3).sort());
    expect(poems.body.items.every((r) => r.flow === 'poem' && r.status === 'SUCCEEDED')).toBe(true);
    expect((await list(user, '?flow=chat')).body.items.map((r) => r.runId)).toEqual([mine[3]]);
    expect((await list(user, '?agentId=default')).body.items).toHaveLength(4);
    expect((await list(user, '?agentId=nobody')).body.items).toEqual([]);
    expect((await list(user, '?status=FAILED')).body.items).toEqual([]);
  });

  test('cursors page through without repeats or gaps, within the filter', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: { status: number; body: Page & Err } = await list(admin, `?limit=2&flow=poem${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((r) => r.runId));
      cursor = page.body.nextCursor;
      pages += 1;
    } while (cursor && pages < 10);
    expect(pages).toBe(2);
    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort()).toEqual([...mine.slice(0, 3), theirs].sort());
  });

  test('a bad filter value or cursor is a 400 naming the field', async () => {
    for (const [query, field] of [
      ['?status=NOPE', 'status'],
      ['?limit=0', 'limit'],
      ['?limit=1000', 'limit'],
      [`?flow=${'f'.repeat(65)}`, 'flow'],
      ['?cursor=not-a-cursor', 'cursor'],
    ] as const) {
      const res = await list(user, query);
      expect(res.status, query).toBe(400);
      expect(res.body.error.code).toBe('invalid_payload');
      expect(res.body.error.details?.fields, query).toContain(field);
    }
  });
});
