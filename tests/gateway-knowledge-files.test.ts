import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { makeDocx, makeEncryptedPdf, makeImageOnlyPdf, makePdf, PDF_TYPE } from './support/documents.js';
import { token } from './support/gateway-env.js';
import { usePlatform } from './support/platform.js';

const TEXT_LIMIT = 4096;
// The test's own web server is on loopback, which the outbound guard refuses unless the operator lists it.
const platform = usePlatform('gwkf', {
  query: true,
  gateway: { KNOWLEDGE_MAX_TEXT_BYTES: String(TEXT_LIMIT), OUTBOUND_ALLOW_HOSTS: '127.0.0.1', KNOWLEDGE_URL_TIMEOUT_MS: '10000' },
});

const admin = token({ sub: 'kf-admin', tenant: 'kf1', roles: ['admin'] });
const reader = token({ sub: 'kf-reader', tenant: 'kf1' });
const stranger = token({ sub: 'kf-other', tenant: 'kf2', roles: ['admin'] });
const emptyTenant = token({ sub: 'kf-empty', tenant: 'kf3' });
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const json = (t: string) => ({ ...bearer(t), 'content-type': 'application/json' });
const url = (path: string) => `${platform.gw.http}${path}`;

type Err = { error: { code: string; message: string; details?: Record<string, unknown> } };
type Info = { documentId: string; title: string; source: string | null; chunks: number };
type Hit = { documentId: string; title: string; source: string | null; text: string; ordinal?: number };

function uploadFile(bytes: Buffer | string, name: string, type: string, headers: Record<string, string> = {}): Promise<Response> {
  const form = new FormData();
  form.append('file', new Blob([bytes], { type }), name);
  return fetch(url('/api/v1/knowledge/documents'), { method: 'POST', headers: { ...bearer(admin), ...headers }, body: form });
}

async function search(q: string, who = reader): Promise<Hit[]> {
  const res = await fetch(url(`/api/v1/knowledge/search?q=${encodeURIComponent(q)}&topK=3`), { headers: bearer(who) });
  expect(res.status).toBe(200);
  return ((await res.json()) as { hits: Hit[] }).hits;
}

async function titles(): Promise<string[]> {
  const res = await fetch(url('/api/v1/knowledge/documents?limit=100'), { headers: bearer(reader) });
  return ((await res.json()) as { items: Info[] }).items.map((d) => d.title).sort();
}

// A web server the URL-ingestion tests fetch from: a page, a document past the limit, an image.
let site: http.Server;
let siteUrl = '';
const streamClosed: Array<Promise<unknown>> = [];
beforeAll(async () => {
  site = http.createServer((req, res) => {
    if (req.url === '/guide.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      return res.end(
        '<!doctype html><html><head><title>Descaling guide</title></head><body><h1>Descaling</h1><p>Descale the kettle monthly with citric acid.</p><script>var x = "zzscript";</script></body></html>',
      );
    }
    if (req.url === '/endless.txt') {
      // No Content-Length, and more than the limit: the gateway must stop reading on its own.
      res.writeHead(200, { 'content-type': 'text/plain' });
      streamClosed.push(once(res, 'close'));
      const timer = setInterval(() => res.write('x'.repeat(1024)), 5);
      res.on('close', () => clearInterval(timer));
      return;
    }
    if (req.url === '/photo.png') {
      res.writeHead(200, { 'content-type': 'image/png' });
      return res.end(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    }
    res.writeHead(404).end();
  });
  site.listen(0, '127.0.0.1');
  await once(site, 'listening');
  siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
});
afterAll(async () => {
  site.closeAllConnections();
  await new Promise((r) => site.close(r));
});

describe('knowledge documents beyond plain text', () => {
  test('a PDF, a DOCX, an HTML page and a Markdown file are extracted: their text is found by search, titles come from the documents', async () => {
    const pdf = await uploadFile(
      await makePdf('Warranty terms', ['Every kettle carries a seven year warranty.', 'Claims need the receipt.']),
      'warranty.pdf',
      PDF_TYPE,
    );
    expect(pdf.status).toBe(201);
    expect(await pdf.json()).toMatchObject({ title: 'Warranty terms', source: 'upload:warranty.pdf' });
    // curl's default type for a file: the extension decides, the bytes must agree.
    const docx = await uploadFile(await makeDocx(['Grinder care', 'Empty the burr grinder hopper weekly.']), 'grinder.docx', 'application/octet-stream');
    expect(docx.status).toBe(201);
    const html = await uploadFile(
      '<html><head><title>Milk frothing</title><style>.zzstyle{}</style></head><body><p>Froth oat milk at sixty degrees.</p></body></html>',
      'froth.html',
      'text/html',
    );
    expect(html.status).toBe(201);
    const md = await uploadFile('# Espresso tamping\n\nTamp the espresso puck with fifteen kilograms of pressure.', 'tamp.md', 'text/markdown');
    expect(md.status).toBe(201);

    expect((await search('seven year warranty'))[0]).toMatchObject({ title: 'Warranty terms', text: expect.stringContaining('seven year warranty') });
    expect((await search('burr grinder hopper'))[0]?.text).toContain('Empty the burr grinder hopper weekly.');
    expect((await search('oat milk sixty degrees'))[0]).toMatchObject({ title: 'Milk frothing', text: expect.stringContaining('Froth oat milk') });
    expect((await search('tamp espresso puck'))[0]).toMatchObject({ title: 'Espresso tamping' });
    expect(await search('zzstyle')).toEqual([]);
  });

  test('a type outside the allow-list, or bytes that are not the declared type, is a 415 naming the type; nothing is stored', async () => {
    const png = await uploadFile(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), 'photo.png', 'image/png');
    expect(png.status).toBe(415);
    const body = (await png.json()) as Err;
    expect(body.error).toMatchObject({ code: 'unsupported_media_type', message: expect.stringContaining('image/png'), details: { type: 'image/png' } });
    const fake = await uploadFile('just words, no PDF here', 'fake.pdf', PDF_TYPE);
    expect(fake.status).toBe(415);
    expect(((await fake.json()) as Err).error.message).toMatch(/not a PDF.*application\/pdf/);
    const exe = await uploadFile(Buffer.from('MZ\x90\x00'), 'tool.exe', 'application/octet-stream');
    expect(exe.status).toBe(415);
    expect(((await exe.json()) as Err).error.message).toContain('.exe');
    expect(await titles()).not.toContain('photo.png');
  });

  test('a file over its type’s limit is a 413 naming the limit', async () => {
    const res = await uploadFile(`# Big\n\n${'word '.repeat(TEXT_LIMIT / 5 + 10)}`, 'big.md', 'text/markdown');
    expect(res.status).toBe(413);
    expect((await res.json()) as Err).toMatchObject({
      error: { code: 'payload_too_large', message: expect.stringContaining('4 KiB'), details: { limitBytes: TEXT_LIMIT } },
    });
  });

  test('a corrupt, an encrypted and a text-less PDF are each a clear 400 and store nothing', async () => {
    const before = await titles();
    const cases: Array<[Buffer, string, RegExp]> = [
      [Buffer.from('%PDF-1.7\n1 0 obj << /Broken'), 'corrupt', /corrupt/],
      [await makeEncryptedPdf(), 'encrypted', /encrypted with a password/],
      [await makeImageOnlyPdf(), 'no_text', /no text layer/],
    ];
    for (const [bytes, reason, message] of cases) {
      const res = await uploadFile(bytes, `${reason}.pdf`, PDF_TYPE);
      expect(res.status, reason).toBe(400);
      expect(((await res.json()) as Err).error, reason).toMatchObject({
        code: 'invalid_payload',
        message: expect.stringMatching(message),
        details: { reason },
      });
    }
    expect(await titles()).toEqual(before);
  });

  test('a URL is fetched through the outbound guard: the page’s title, its URL as the source; refusals name `url`', async () => {
    const page = `${siteUrl}/guide.html`;
    const ok = await fetch(url('/api/v1/knowledge/documents'), { method: 'POST', headers: json(admin), body: JSON.stringify({ url: page }) });
    expect(ok.status).toBe(201);
    expect(await ok.json()).toMatchObject({ title: 'Descaling guide', source: page });
    expect((await search('descale citric acid'))[0]).toMatchObject({ title: 'Descaling guide', source: page });
    expect(await search('zzscript')).toEqual([]);

    // localhost is loopback and not on OUTBOUND_ALLOW_HOSTS; 169.254.169.254 is the cloud metadata address.
    for (const refused of [`http://localhost:${new URL(siteUrl).port}/guide.html`, 'http://169.254.169.254/latest/meta-data', 'file:///etc/passwd']) {
      const res = await fetch(url('/api/v1/knowledge/documents'), { method: 'POST', headers: json(admin), body: JSON.stringify({ url: refused }) });
      expect(res.status, refused).toBe(400);
      expect(((await res.json()) as Err).error, refused).toMatchObject({
        code: 'invalid_payload',
        message: expect.stringMatching(/^url: /),
        details: { fields: ['url'] },
      });
    }

    const image = await fetch(url('/api/v1/knowledge/documents'), {
      method: 'POST',
      headers: json(admin),
      body: JSON.stringify({ url: `${siteUrl}/photo.png` }),
    });
    expect(image.status).toBe(415);
    expect(((await image.json()) as Err).error.message).toContain('image/png');

    const missing = await fetch(url('/api/v1/knowledge/documents'), {
      method: 'POST',
      headers: json(admin),
      body: JSON.stringify({ url: `${siteUrl}/nope.html` }),
    });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as Err).error.message).toContain('404');
  });

  test('a URL whose body passes the limit is a 413, and the gateway stops reading it', async () => {
    const res = await fetch(url('/api/v1/knowledge/documents'), {
      method: 'POST',
      headers: json(admin),
      body: JSON.stringify({ url: `${siteUrl}/endless.txt` }),
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as Err).error).toMatchObject({ code: 'payload_too_large', details: { limitBytes: TEXT_LIMIT } });
    // The endless response ends only because the gateway closed the connection.
    await Promise.all(streamClosed);
  });

  test('Idempotency-Key: the same body answers the same document; another body under the key is a 422', async () => {
    const key = { 'idempotency-key': `kf-${Date.now()}` };
    const first = await uploadFile(await makePdf('Descaler safety', ['Rinse twice after descaling.']), 'safety.pdf', PDF_TYPE, key);
    expect(first.status).toBe(201);
    const again = await uploadFile(await makePdf('Descaler safety', ['Rinse twice after descaling.']), 'safety.pdf', PDF_TYPE, key);
    expect(again.status).toBe(201);
    expect(((await again.json()) as Info).documentId).toBe(((await first.json()) as Info).documentId);

    const other = await uploadFile(await makePdf('Descaler safety', ['Rinse three times after descaling.']), 'safety.pdf', PDF_TYPE, key);
    expect(other.status).toBe(422);
    expect(((await other.json()) as Err).error).toMatchObject({ code: 'idempotency_key_reused', details: { header: 'Idempotency-Key' } });
    expect((await search('rinse twice descaling'))[0]?.text).toContain('Rinse twice');
    expect((await titles()).filter((t) => t === 'Descaler safety')).toHaveLength(1);
  });

  test('POST /knowledge/answer: a grounded answer citing the document; another tenant and an empty knowledge base get a plain "nothing found"', async () => {
    const pdf = await uploadFile(await makePdf('Cold brew', ['Cold brew steeps for eighteen hours in the fridge.']), 'cold-brew.pdf', PDF_TYPE);
    const { documentId } = (await pdf.json()) as Info;
    const ask = (who: string) =>
      fetch(url('/api/v1/knowledge/answer'), {
        method: 'POST',
        headers: json(who),
        body: JSON.stringify({ question: 'How long does cold brew steep?', topK: 3 }),
      });

    const res = await ask(reader);
    expect(res.status).toBe(200);
    const answer = (await res.json()) as { answer: string; grounded: boolean; citations: Hit[] };
    expect(answer.grounded).toBe(true);
    expect(answer.citations.map((c) => c.documentId)).toContain(documentId);
    expect(answer.citations.find((c) => c.documentId === documentId)?.text).toContain('eighteen hours');

    for (const who of [stranger, emptyTenant]) {
      const none = (await (await ask(who)).json()) as { answer: string; grounded: boolean; citations: Hit[] };
      expect(none).toMatchObject({ grounded: false, citations: [], answer: expect.stringContaining("couldn't find anything") });
    }
    const bad = await fetch(url('/api/v1/knowledge/answer'), { method: 'POST', headers: json(reader), body: JSON.stringify({ question: '' }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as Err).error.details).toMatchObject({ fields: ['question'] });
  });

  test('GET /knowledge/documents/:id: the passages a citation points at, by ordinal; unknown and foreign ids are 404', async () => {
    const pdf = await uploadFile(
      await makePdf('Filter guide', ['Change the water filter every two months.', 'Soak a new filter for five minutes.']),
      'filter.pdf',
      PDF_TYPE,
    );
    const { documentId } = (await pdf.json()) as Info;
    const [hit] = await search('soak new filter five minutes');
    expect(hit?.documentId).toBe(documentId);

    const res = await fetch(url(`/api/v1/knowledge/documents/${documentId}`), { headers: bearer(reader) });
    expect(res.status).toBe(200);
    const doc = (await res.json()) as Info & { passages: Array<{ ordinal: number; text: string }> };
    expect(doc).toMatchObject({ documentId, title: 'Filter guide', source: 'upload:filter.pdf' });
    expect(doc.passages.find((p) => p.ordinal === hit?.ordinal)?.text).toContain('Soak a new filter');

    for (const [who, id] of [
      [stranger, documentId],
      [reader, '01a25038-0db0-72bf-8427-a7b0a5859c56'],
    ] as const) {
      const missing = await fetch(url(`/api/v1/knowledge/documents/${id}`), { headers: bearer(who) });
      expect(missing.status).toBe(404);
      expect(((await missing.json()) as Err).error.code).toBe('not_found');
    }
  });
});
