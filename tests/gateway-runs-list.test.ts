import { describe, expect, test } from 'vitest';
import { waitFor } from '@parley/testing';
import { token } from './support/gateway-env.js';
import { usePlatform } from './support/platform.js';

const platform = usePlatform('gwruns', { gateway: {} });

const h = (t: string) => ({ authorization: `Bearer ${t}`, 'content-type': 'application/json' });
const admin = token({ sub: 'ops', tenant: 'r1', roles: ['admin'] });
const user = token({ sub: 'someone', tenant: 'r1' });
const otherAdmin = token({ sub: 'ops2', tenant: 'r2', roles: ['admin'] });

describe('GET /api/v1/runs', () => {
  test("an admin lists the tenant's runs newest first, filtered by status; others cannot", async () => {
    const ids: string[] = [];
    for (const topic of ['sea', 'moon']) {
      const res = await fetch(`${platform.gw.http}/api/v1/runs`, {
        method: 'POST',
        headers: h(user),
        body: JSON.stringify({ flow: 'poem', input: { topic } }),
      });
      expect(res.status).toBe(202);
      ids.push(((await res.json()) as { runId: string }).runId);
    }
    const list = await waitFor(
      async () => {
        const res = await fetch(`${platform.gw.http}/api/v1/runs?status=SUCCEEDED`, { headers: h(admin) });
        const body = (await res.json()) as { items: Array<{ runId: string; flow: string; status: string; createdAt: string }> };
        return body.items.length === 2 ? body : null;
      },
      { timeoutMs: 30_000, what: 'two finished runs listed' },
    );
    // Both runs were started at once, so only the set and the newest-first order of records are certain.
    expect(list.items.map((r) => r.runId).sort()).toEqual([...ids].sort());
    const created = list.items.map((r) => Date.parse(r.createdAt));
    expect(created[0]).toBeGreaterThanOrEqual(created[1]!);
    expect(list.items.every((r) => r.flow === 'poem')).toBe(true);

    expect((await fetch(`${platform.gw.http}/api/v1/runs`, { headers: h(user) })).status).toBe(403);
    const theirs = (await (await fetch(`${platform.gw.http}/api/v1/runs`, { headers: h(otherAdmin) })).json()) as { items: unknown[] };
    expect(theirs.items).toEqual([]);
    expect((await fetch(`${platform.gw.http}/api/v1/runs?status=NOPE`, { headers: h(admin) })).status).toBe(400);
  });
});
