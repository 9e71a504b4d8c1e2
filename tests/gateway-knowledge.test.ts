import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { token } from './support/gateway-env.js';
import { usePlatform } from './support/platform.js';

const platform = usePlatform('gwkb', { query: true, gateway: {} });

const admin = token({ sub: 'kb-admin', tenant: 'kb1', roles: ['admin'] });
const reader = token({ sub: 'kb-reader', tenant: 'kb1' });
const stranger = token({ sub: 'other', tenant: 'kb2', roles: ['admin'] });
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const json = (t: string) => ({ ...bearer(t), 'content-type': 'application/json' });
const fixture = (name: string) => readFileSync(new URL(`./fixtures/knowledge/${name}`, import.meta.url), 'utf8');

describe('knowledge routes', () => {
  const http = () => platform.gw.http;
  test('an admin uploads JSON and a markdown file; users list and search; re-upload replaces; delete removes', async () => {
    const created = await fetch(`${http()}/api/v1/knowledge/documents`, {
      method: 'POST',
      headers: json(admin),
      body: JSON.stringify({
        title: 'Returns policy',
        text: 'Customers may return unused items within 30 days for a full refund to the original card.',
        source: 'policy:returns',
      }),
    });
    expect(created.status).toBe(201);
    const doc = (await created.json()) as { documentId: string; chunks: number };
    expect(doc.chunks).toBeGreaterThan(0);

    const form = new FormData();
    form.append(
      'file',
      new Blob(['# Shipping\n\nParcels leave the warehouse every weekday at noon and arrive within three days.'], { type: 'text/markdown' }),
      'shipping.md',
    );
    const uploaded = await fetch(`${http()}/api/v1/knowledge/documents`, { method: 'POST', headers: bearer(admin), body: form });
    expect(uploaded.status).toBe(201);
    // The title is the document's own (its first heading); the source names the file.
    expect(await uploaded.json()).toMatchObject({ title: 'Shipping', source: 'upload:shipping.md' });

    const form2 = new FormData();
    form2.append('file', new Blob(['# Shipping\n\nParcels now leave twice a day, at noon and at six.'], { type: 'text/markdown' }), 'shipping.md');
    const replaced = await fetch(`${http()}/api/v1/knowledge/documents`, { method: 'POST', headers: bearer(admin), body: form2 });
    expect(replaced.status).toBe(200);

    const list = (await (await fetch(`${http()}/api/v1/knowledge/documents`, { headers: bearer(reader) })).json()) as { items: Array<{ title: string }> };
    expect(list.items.map((d) => d.title).sort()).toEqual(['Returns policy', 'Shipping']);

    const search = await fetch(`${http()}/api/v1/knowledge/search?q=${encodeURIComponent('how long do I have to return an item?')}`, {
      headers: bearer(reader),
    });
    expect(search.status).toBe(200);
    const hits = ((await search.json()) as { hits: Array<{ title: string; text: string }> }).hits;
    expect(hits[0]?.title).toBe('Returns policy');

    const twice = await fetch(`${http()}/api/v1/knowledge/search?q=twice+a+day`, { headers: bearer(reader) });
    expect(((await twice.json()) as { hits: Array<{ text: string }> }).hits[0]?.text).toContain('twice a day');

    expect((await fetch(`${http()}/api/v1/knowledge/documents/${doc.documentId}`, { method: 'DELETE', headers: bearer(admin) })).status).toBe(204);
    expect((await fetch(`${http()}/api/v1/knowledge/documents/${doc.documentId}`, { method: 'DELETE', headers: bearer(admin) })).status).toBe(404);
    const after = (await (await fetch(`${http()}/api/v1/knowledge/documents`, { headers: bearer(reader) })).json()) as { items: unknown[] };
    expect(after.items).toHaveLength(1);
  });

  test('writes need the admin role; bad input gets a 400 naming the field; another tenant sees nothing', async () => {
    const body = JSON.stringify({ title: 'x', text: 'y' });
    expect((await fetch(`${http()}/api/v1/knowledge/documents`, { method: 'POST', headers: json(reader), body })).status).toBe(403);
    const bad = await fetch(`${http()}/api/v1/knowledge/documents`, { method: 'POST', headers: json(admin), body: JSON.stringify({ title: 'no text' }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toContain('text');
    const noQ = await fetch(`${http()}/api/v1/knowledge/search?q=`, { headers: bearer(reader) });
    expect(noQ.status).toBe(400);

    await fetch(`${http()}/api/v1/knowledge/documents`, {
      method: 'POST',
      headers: json(admin),
      body: JSON.stringify({ title: 'Secret plan', text: fixture('account-security.md') }),
    });
    const theirs = (await (await fetch(`${http()}/api/v1/knowledge/documents`, { headers: bearer(stranger) })).json()) as { items: unknown[] };
    expect(theirs.items).toEqual([]);
    const found = (await (await fetch(`${http()}/api/v1/knowledge/search?q=plan`, { headers: bearer(stranger) })).json()) as { hits: unknown[] };
    expect(found.hits).toEqual([]);
  });
});
