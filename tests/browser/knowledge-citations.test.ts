import { describe, expect, test } from 'vitest';
import { makePdf, PDF_TYPE } from '../support/documents.js';
import { ARTIFACTS, useBrowserStack } from './support/browser-stack.js';
import { mintToken } from './support/stack.js';
import { finished, send, signedIn } from './support/ui.js';

const env = useBrowserStack('webcite');

describe('knowledge citations in the chat', () => {
  test('a PDF in the knowledge base is cited in a chat answer, and the citation opens that passage', async () => {
    // An admin uploads a PDF (the API, as an integrator would); the chat user is not an admin.
    const form = new FormData();
    const pdf = await makePdf('Kettle warranty', ['Every kettle carries a seven year warranty against limescale damage.']);
    form.append('file', new Blob([new Uint8Array(pdf)], { type: PDF_TYPE }), 'kettle-warranty.pdf');
    const uploaded = await fetch(`${env.stack.url}/api/v1/knowledge/documents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${mintToken({ sub: 'cite-admin', roles: ['admin'] })}` },
      body: form,
    });
    expect(uploaded.status).toBe(201);
    const { documentId } = (await uploaded.json()) as { documentId: string };

    const page = await signedIn(env.chrome, env.stack.url, 'cite-reader', { admin: false });
    // "policy" is a search_knowledge topic for the scripted dev model: it searches, then answers from the hits.
    const answer = await send(page, 'What is the kettle warranty policy?');
    await finished(answer).toBe('done');
    const link = answer.getByRole('navigation', { name: 'Sources' }).getByRole('link', { name: /Kettle warranty/ });
    expect(await link.getAttribute('href')).toMatch(new RegExp(`^#/knowledge/${documentId}\\?chunk=\\d+$`));
    await page.screenshot({ path: `${ARTIFACTS}web-citation.png`, fullPage: true });

    await link.click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent(), { timeout: 30_000 }).toBe('Kettle warranty');
    const cited = page.locator('li.passage[aria-current="location"]');
    expect(await cited.innerText()).toContain('seven year warranty against limescale damage');
    await page.screenshot({ path: `${ARTIFACTS}web-cited-passage.png`, fullPage: true });

    // The chat is one Back away, its answer and citation intact.
    await page.goBack();
    await expect.poll(() => page.getByRole('navigation', { name: 'Sources' }).count(), { timeout: 30_000 }).toBeGreaterThan(0);
    await page.context().close();
  }, 180_000);

  test('an admin uploads a PDF on the knowledge page; its search hit opens the passage', async () => {
    const page = await signedIn(env.chrome, env.stack.url, 'cite-ops');
    await page.goto(`${env.stack.url}/#/ops/knowledge`);
    const pdf = await makePdf('Grinder manual', ['Clean the burrs of the grinder every second week.']);
    await page.getByLabel(/^File/).setInputFiles({ name: 'grinder.pdf', mimeType: PDF_TYPE, buffer: pdf });
    await page.getByRole('button', { name: 'Upload' }).click();
    await expect.poll(() => page.getByRole('status').textContent(), { timeout: 60_000 }).toContain('“Grinder manual” created');
    await expect.poll(() => page.locator('.docs li').allTextContents(), { timeout: 30_000 }).toContainEqual(expect.stringContaining('upload:grinder.pdf'));

    await page.getByLabel('Try a search').fill('clean the burrs');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('list', { name: 'Search results' }).getByRole('link', { name: 'Grinder manual' }).click();
    await expect.poll(() => page.locator('li.passage[aria-current="location"]').innerText(), { timeout: 30_000 }).toContain('every second week');

    // A file the knowledge base does not take is refused in the gateway's words.
    await page.goto(`${env.stack.url}/#/ops/knowledge`);
    await page.getByLabel(/^File/).setInputFiles({ name: 'logo.png', mimeType: 'image/png', buffer: Buffer.from([0x89, 0x50, 0x4e, 0x47]) });
    await page.getByRole('button', { name: 'Upload' }).click();
    await expect.poll(() => page.getByRole('status').textContent(), { timeout: 30_000 }).toMatch(/Upload failed: .*image\/png/);
    await page.context().close();
  }, 180_000);
});
