/**
 * The operator console as an operator uses it: Chatwoot inboxes, runs told apart by id, flow forms
 * labelled from their schemas with a conversation picker, and every page laid out at desktop and phone width.
 */
import { describe, expect, test } from 'vitest';
import type { Page } from '../../apps/web/test-support/browser.js';
import { ARTIFACTS, useBrowserStack } from './support/browser-stack.js';
import { overflowing, smallestChartText } from './support/layout.js';
import { conversationShown, finished, send, signedIn as signIn } from './support/ui.js';

const env = useBrowserStack('webconsole');

const signedIn = (user: string, width = 1280) => signIn(env.chrome, env.stack.url, user, { width });
const open = (page: Page, path: string) => page.goto(`${env.stack.url}/#${path}`);

async function chatOnce(page: Page, text: string): Promise<void> {
  await finished(await send(page, text)).toBe('done');
}

/** REST as the signed-in page (its token), for setting up and for reading back what the page saved. */
function rest<T>(page: Page, method: string, path: string, body?: unknown): Promise<{ status: number; data: T }> {
  return page.evaluate(
    async ({ method, path, body }) => {
      const headers: Record<string, string> = { authorization: `Bearer ${localStorage.getItem('parley.token')}` };
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(`/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: res.status, data: (await res.json()) as T };
    },
    { method, path, body },
  );
}

type InboxView = {
  accountId: number;
  inboxId: number;
  agentId: string | null;
  enabled: boolean;
  apiTokenSet: boolean;
  webhookSecretSet: boolean;
  answerStatuses: string[];
};

describe('operator console', () => {
  test('an admin creates, edits and disables a Chatwoot inbox; secrets are never shown; refusals are shown in the gateway’s words', async () => {
    const page = await signedIn('ops-ivy');
    const agentId = `harbour-${Date.now().toString(36)}`;
    const agents = await rest<{ agents: Array<Record<string, unknown> & { isDefault: boolean }> }>(page, 'GET', '/agents');
    const base: Record<string, unknown> = agents.data.agents.find((a) => a.isDefault) ?? {};
    const spec = Object.fromEntries(
      ['systemPrompt', 'greeting', 'model', 'temperature', 'tools', 'flow', 'doubleTexting', 'maxRunMs'].map((k) => [k, base[k]]),
    );
    expect((await rest(page, 'POST', '/agents', { ...spec, agentId, name: 'Harbour desk' })).status).toBe(201);

    await open(page, '/ops/inboxes');
    await expect.poll(() => page.getByRole('heading', { name: 'Chatwoot inboxes' }).isVisible(), { timeout: 30_000 }).toBe(true);
    await expect.poll(() => page.getByText('No inboxes yet.').isVisible(), { timeout: 30_000 }).toBe(true);
    expect(await page.getByRole('link', { name: 'Inboxes', exact: true }).getAttribute('aria-current')).toBe('page');

    await page.getByRole('button', { name: 'New inbox' }).click();
    const form = page.getByRole('form', { name: 'New inbox' });
    await form.getByLabel('Chatwoot account id').fill('7');
    await form.getByLabel('Chatwoot inbox id').fill('42');
    await form.getByLabel('Chatwoot URL').fill('http://10.1.2.3');
    await expect
      .poll(() => form.getByRole('combobox', { name: 'Agent' }).locator('option').allTextContents(), { timeout: 30_000 })
      .toContain(`Harbour desk (${agentId})`);
    await form.getByRole('combobox', { name: 'Agent' }).selectOption(agentId);
    expect(await form.getByTestId('apiToken-state').innerText()).toBe('not set');
    await form.getByLabel('API access token (required)').fill('cw-token-secret-1');
    // No webhook secret and a private address: both refusals come back in one 400, with its request id.
    await form.getByRole('button', { name: 'Create' }).click();
    const refusal = form.getByRole('alert');
    await expect.poll(() => refusal.innerText(), { timeout: 30_000 }).toMatch(/^Not saved: .*webhookSecret or inboxToken.*private address.*\(reference .+\)$/);

    await form.getByLabel('Chatwoot URL').fill('https://chatwoot.test');
    await form.getByLabel('Webhook secret (optional)').fill('whsec-0123456789abcdef');
    await form.getByRole('button', { name: 'Create' }).click();
    await expect.poll(() => page.getByRole('status').innerText(), { timeout: 30_000 }).toBe('Created inbox 7/42.');
    const row = page.locator('tr[data-inbox="7/42"]');
    await expect.poll(() => row.getByTestId('agent').innerText(), { timeout: 30_000 }).toBe('Harbour desk');
    expect(await row.getByTestId('secrets').innerText()).toBe('API token set · webhook secret set');
    expect(await row.getByTestId('state').innerText()).toBe('enabled');

    // Edit: the secrets are only "set"; the replace field is empty and nothing typed earlier is on the page.
    await row.getByRole('button', { name: 'Edit inbox 7/42' }).click();
    const edit = page.getByRole('form', { name: 'Inbox 7/42' });
    expect(await edit.getByTestId('apiToken-state').innerText()).toBe('set');
    expect(await edit.getByTestId('inboxToken-state').innerText()).toBe('not set');
    expect(await edit.getByLabel('Replace API access token').inputValue()).toBe('');
    const shown = await page.evaluate(
      () => document.body.innerText + [...document.querySelectorAll('input, textarea')].map((i) => (i as HTMLInputElement).value).join(' '),
    );
    expect(shown).not.toContain('cw-token-secret-1');
    expect(shown).not.toContain('whsec-0123456789abcdef');
    await edit.getByLabel('Replace API access token').fill('cw-token-secret-2');
    await edit.getByRole('checkbox', { name: 'open' }).check();
    await edit.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.getByRole('status').innerText(), { timeout: 30_000 }).toBe('Saved inbox 7/42.');

    await row.getByRole('button', { name: 'Disable inbox 7/42' }).click();
    await expect.poll(() => row.getByTestId('state').innerText(), { timeout: 30_000 }).toBe('disabled');
    const saved = (await rest<{ inboxes: InboxView[] }>(page, 'GET', '/channels/chatwoot/inboxes')).data.inboxes.find((i) => i.inboxId === 42);
    expect(saved).toMatchObject({ accountId: 7, agentId, enabled: false, apiTokenSet: true, webhookSecretSet: true, answerStatuses: ['pending', 'open'] });
    await row.getByRole('button', { name: 'Enable inbox 7/42' }).click();
    await expect.poll(() => row.getByTestId('state').innerText(), { timeout: 30_000 }).toBe('enabled');

    // An address that is no page of the console says so rather than showing another page.
    await open(page, '/ops/nowhere');
    await expect.poll(() => page.getByRole('alert').innerText(), { timeout: 30_000 }).toContain('There is no operator page “nowhere”');
    await page.context().close();
  }, 120_000);

  test('runs started in the same second get different labels, each copies its full id, and the detail shows the status once', async () => {
    const page = await signedIn('ops-jon');
    for (const n of [1, 2, 3]) await chatOnce(page, `run number ${n} [[tokens:3]]`);
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: env.stack.url });

    await open(page, '/ops/runs');
    const links = page.locator('table.data a[href^="#/ops/runs/"]');
    await expect.poll(() => links.count(), { timeout: 30_000 }).toBeGreaterThanOrEqual(3);
    const rows = await links.evaluateAll((as) => as.map((a) => ({ id: a.getAttribute('href')!.split('/').pop()!, label: a.textContent! })));
    expect(new Set(rows.map((r) => r.label)).size).toBe(rows.length);
    for (const r of rows) expect(r.id.replace(/-/g, '').endsWith(r.label.replace('…', ''))).toBe(true);

    const first = rows[0]!;
    await page.getByRole('button', { name: `Copy run id ${first.id}` }).click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText()), { timeout: 10_000 }).toBe(first.id);

    await links.first().click();
    await expect.poll(() => page.locator('.run').getAttribute('data-state'), { timeout: 30_000 }).toBe('SUCCESS');
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toContain(first.label);
    const text = await page.locator('main').innerText();
    expect(text.match(/SUCCEEDED|SUCCESS/g)).toEqual(['SUCCEEDED']);
    await page.context().close();
  }, 120_000);

  test('flow forms are labelled from their schemas, hide internal fields, and summarize_conversation runs on a picked conversation', async () => {
    const page = await signedIn('ops-kim');
    const flow = page.getByRole('combobox', { name: /^Flow/ });
    // Before the user has any conversation, the flow says where to get one and cannot be run.
    await page.getByRole('link', { name: 'Flows', exact: true }).click();
    await flow.selectOption('summarize_conversation');
    await expect.poll(() => page.getByTestId('no-conversations').isVisible(), { timeout: 30_000 }).toBe(true);
    expect(await page.getByRole('button', { name: 'Run' }).isDisabled()).toBe(true);

    await page.getByRole('link', { name: 'Chat', exact: true }).click();
    await conversationShown(page);
    await chatOnce(page, 'my kayak order 1234 is late [[tokens:4]]');
    await page.getByRole('link', { name: 'Flows', exact: true }).click();

    await flow.selectOption('chat');
    await expect.poll(() => page.getByLabel('Message', { exact: true }).isVisible(), { timeout: 30_000 }).toBe(true);
    expect(await page.locator('#field-messageId').count()).toBe(0);
    expect(await page.getByText('What the user says to the agent.').isVisible()).toBe(true);

    await flow.selectOption('poem');
    expect(await page.getByLabel('Topic', { exact: true }).getAttribute('aria-describedby')).toBe('field-topic-d');
    expect(await page.locator('#field-topic-d').innerText()).toBe('What the poem is about.');
    expect(await page.getByLabel('Lines (optional)').inputValue()).toBe('4');
    expect(await page.getByLabel(/^Conversation/).count()).toBe(0);

    await flow.selectOption('summarize_conversation');
    expect(await page.getByLabel('Maximum words (optional)').inputValue()).toBe('120');
    const run = page.getByRole('button', { name: 'Run' });
    expect(await run.isDisabled()).toBe(true);
    const picker = page.getByLabel('Conversation', { exact: true });
    await expect.poll(() => picker.locator('option').count(), { timeout: 30_000 }).toBe(2);
    expect(await picker.locator('option').nth(1).innerText()).toContain('2 messages');
    await picker.selectOption({ index: 1 });
    await run.click();
    const view = page.locator('.run');
    await expect.poll(() => view.getAttribute('data-state'), { timeout: 60_000 }).toBe('SUCCESS');
    expect(await view.locator('.timeline .step-name').allTextContents()).toContain('reading conversation');
    expect(await view.locator('.result').innerText()).toContain('Result');
    await page.context().close();
  }, 120_000);

  test('every operator page fits at 1280 px and 390 px: nothing wider than the screen outside a scroller, chart text at least 10 px', async () => {
    const setup = await signedIn('ops-lee');
    await chatOnce(setup, 'a conversation for the console [[tokens:6]]');
    const conversationId = setup.url().split('#/chat/')[1]!;
    const runId = (await rest<{ items: Array<{ runId: string }> }>(setup, 'GET', '/runs?limit=1')).data.items[0]!.runId;
    const inbox = { accountId: 9, inboxId: 1, baseUrl: 'https://chatwoot.test', apiToken: 'layout-token-1', webhookSecret: 'layout-secret-0123456789' };
    expect((await rest(setup, 'PUT', '/channels/chatwoot/inboxes', inbox)).status).toBe(200);
    await open(setup, '/ops/knowledge');
    await setup.getByLabel('Title (optional)').fill('Returns policy');
    await setup.getByLabel('File (.md, .txt)').setInputFiles({
      name: 'returns.md',
      mimeType: 'text/markdown',
      buffer: Buffer.from('# Returns policy\n\n## Refunds\n\nYou can return a kayak within 30 days with the receipt.\n'),
    });
    await setup.getByRole('button', { name: 'Upload' }).click();
    await expect.poll(() => setup.locator('.docs li').first().textContent(), { timeout: 60_000 }).toContain('returns.md · 1 chunk');
    await setup.context().close();

    const pages: Array<[string, string, (p: Page) => Promise<unknown>]> = [
      ['conversations', '/ops/conversations', (p) => expect.poll(() => p.locator('table.data tbody tr').count(), { timeout: 30_000 }).toBeGreaterThan(0)],
      ['transcript', `/ops/conversations/${conversationId}`, (p) => expect.poll(() => p.locator('.transcript .msg').count(), { timeout: 30_000 }).toBe(2)],
      ['stats', '/ops/stats', (p) => expect.poll(() => p.locator('figure.chart svg rect.bar').count(), { timeout: 30_000 }).toBeGreaterThan(0)],
      ['runs', '/ops/runs', (p) => expect.poll(() => p.locator('table.data tbody tr').count(), { timeout: 30_000 }).toBeGreaterThan(0)],
      ['run', `/ops/runs/${runId}`, (p) => expect.poll(() => p.locator('.run').getAttribute('data-state'), { timeout: 30_000 }).toBe('SUCCESS')],
      ['knowledge', '/ops/knowledge', (p) => expect.poll(() => p.locator('.docs li').count(), { timeout: 30_000 }).toBe(1)],
      ['agents', '/ops/agents', (p) => expect.poll(() => p.locator('table.agents tbody tr').count(), { timeout: 30_000 }).toBeGreaterThan(0)],
      ['inboxes', '/ops/inboxes', (p) => expect.poll(() => p.locator('tr[data-inbox="9/1"]').count(), { timeout: 30_000 }).toBe(1)],
      ['handoffs', '/ops/handoffs', (p) => expect.poll(() => p.locator('#handoffs-h').isVisible(), { timeout: 30_000 }).toBe(true)],
      ['flows', '/flows', (p) => expect.poll(() => p.getByRole('button', { name: 'Run' }).isVisible(), { timeout: 30_000 }).toBe(true)],
    ];
    for (const width of [1280, 390]) {
      const page = await signedIn('ops-lee', width);
      for (const [name, path, ready] of pages) {
        await open(page, path);
        await ready(page);
        if (name === 'knowledge') {
          await page.getByLabel('Try a search').fill('return a kayak');
          await page.getByRole('button', { name: 'Search' }).click();
          const hit = page.locator('.hits li').first();
          await expect.poll(() => hit.locator('.hit-section').textContent(), { timeout: 30_000 }).toBe(' › Refunds');
          expect(await hit.locator('.hit-title').innerText()).toBe('Returns policy');
        }
        await page.screenshot({ path: `${ARTIFACTS}console-${name}-${width}.png`, fullPage: true });
        expect({ page: name, width, overflowing: await overflowing(page) }).toEqual({ page: name, width, overflowing: [] });
        if (name === 'stats') expect(await smallestChartText(page)).toBeGreaterThanOrEqual(10);
        if (path.startsWith('/ops')) {
          // Every operator page is reachable from the sub-nav at this width: all entries inside the screen.
          const boxes = await page.locator('nav.subnav a').evaluateAll((as) => as.map((a) => a.getBoundingClientRect().right));
          expect(boxes).toHaveLength(7);
          for (const right of boxes) expect(right).toBeLessThanOrEqual(width);
        }
        if (name === 'conversations' && width === 1280) {
          // The whole table, last column included, fits its box at desktop width.
          const fit = await page.locator('.table-wrap').evaluate((w) => w.scrollWidth - w.clientWidth);
          expect(fit).toBeLessThanOrEqual(0);
        }
      }
      await page.context().close();
    }
  }, 240_000);
});
