/**
 * In a real browser: turns that failed, were stopped or timed out are still there after a reload
 * (chat and operator transcript), and the search boxes of the chat's conversation list and the
 * operator's conversations page find a message and highlight it.
 */
import { describe, expect, test } from 'vitest';
import { ARTIFACTS, useBrowserStack } from './support/browser-stack.js';
import { mintToken } from './support/stack.js';
import { conversationShown, finished, send, signedIn as signIn } from './support/ui.js';

const env = useBrowserStack('websearch');

const signedIn = (user: string, width = 1280) => signIn(env.chrome, env.stack.url, user, { width });

async function createQuickAgent(): Promise<void> {
  const res = await fetch(`${env.stack.url}/api/v1/agents`, {
    method: 'POST',
    headers: { authorization: `Bearer ${mintToken({ sub: 'trace-admin', roles: ['admin'] })}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      agentId: 'quick',
      name: 'Quick',
      systemPrompt: 'You answer fast.',
      greeting: '',
      model: 'parley-dev',
      temperature: 0,
      tools: [],
      flow: 'chat',
      doubleTexting: 'enqueue',
      maxRunMs: 1_000,
    }),
  });
  expect(res.status, await res.text()).toBe(201);
}

describe('turn traces and search in a real browser', () => {
  test('a failed, a stopped and a timed-out turn show their reason after a reload, in the chat and in the operator transcript', async () => {
    await createQuickAgent();
    const page = await signedIn('trace-erin');
    const failed = await send(page, 'please fail [[fail:500]]');
    await finished(failed).toBe('failed');
    const stopped = await send(page, 'a long one [[slow:150]] [[tokens:400]]');
    await expect.poll(() => stopped.locator('.bubble').textContent(), { timeout: 30_000 }).toContain('ok');
    await page.getByRole('button', { name: 'Stop' }).click();
    await finished(stopped).toBe('cancelled');
    const conversationId = page.url().split('#/chat/')[1]!;

    await page.reload();
    await conversationShown(page);
    const turns = page.locator('article.turn-assistant');
    await expect.poll(() => turns.count(), { timeout: 30_000 }).toBe(2);
    expect(await turns.nth(0).getAttribute('data-status')).toBe('failed');
    expect(await turns.nth(0).locator('.error').innerText()).toMatch(/^the model failed \(HTTP 500\)/);
    expect(await turns.nth(1).getAttribute('data-status')).toBe('cancelled');
    expect(await turns.nth(1).locator('.note').innerText()).toBe('Stopped.');

    // A fresh conversation with the agent whose max run time is one second.
    await page.goto(`${env.stack.url}/#/chat?agent=quick`);
    await conversationShown(page);
    const timedOut = await send(page, 'never answers [[hang]]');
    await finished(timedOut).toBe('failed');
    await page.reload();
    await conversationShown(page);
    const after = page.locator('article.turn-assistant');
    await expect.poll(() => after.count(), { timeout: 30_000 }).toBe(1);
    expect(await after.first().getAttribute('data-status')).toBe('failed');
    expect(await after.first().locator('.error').innerText()).toContain('max run time of 1000 ms');
    await page.screenshot({ path: `${ARTIFACTS}web-turn-trace.png`, fullPage: true });

    await page.goto(`${env.stack.url}/#/ops/conversations/${conversationId}`);
    const status = page.locator('.transcript [data-testid="turn-status"]');
    await expect.poll(() => status.count(), { timeout: 30_000 }).toBe(2);
    expect(await status.nth(0).innerText()).toMatch(/^Turn failed \(model_error\): the model failed \(HTTP 500\)/);
    expect(await status.nth(1).innerText()).toBe('Turn cancelled (cancelled): the run was cancelled');
    await page.context().close();
  }, 150_000);

  test('the chat list and the operator page find a message a moment after it is said, highlighted and as text', async () => {
    const page = await signedIn('search-fay');
    const answer = await send(page, 'Tell me about the <img src=x onerror="window.__pwned=1"> zeppelin hangar [[tokens:2]]');
    await finished(answer).toBe('done');
    const list = page.locator('.conv-list li');

    await page.getByRole('searchbox', { name: 'Search your conversations' }).fill('zeppelins');
    await expect.poll(() => list.count(), { timeout: 30_000 }).toBe(1);
    expect(await list.first().locator('mark').innerText()).toBe('zeppelin');
    expect(await list.first().locator('img').count()).toBe(0);
    await page.getByRole('searchbox', { name: 'Search your conversations' }).fill('submarine');
    await expect.poll(() => page.getByText('No messages match “submarine”.').count(), { timeout: 30_000 }).toBe(1);
    expect(await list.count()).toBe(0);

    await page.getByRole('link', { name: 'Operator', exact: true }).click();
    // (Not "hangar": its Spanish stem is "hang", which the other test's "[[hang]]" turn contains.)
    await page.getByRole('searchbox', { name: 'Search messages' }).fill('zeppelin');
    await page.getByRole('searchbox', { name: 'Search messages' }).press('Enter');
    await expect.poll(() => page.url(), { timeout: 30_000 }).toContain('q=zeppelin');
    const rows = page.locator('table.data tbody tr');
    await expect.poll(() => rows.count(), { timeout: 30_000 }).toBe(1);
    expect(await rows.first().locator('[data-testid="snippet"] mark').innerText()).toBe('zeppelin');
    expect(await rows.first().innerText()).toContain('search-fay');
    expect(await page.evaluate(() => (window as { __pwned?: number }).__pwned)).toBeUndefined();
    await page.screenshot({ path: `${ARTIFACTS}web-operator-search.png`, fullPage: true });
    await page.context().close();
  }, 120_000);

  test('a search typed in the frame the operator page opens is kept, not cleared when the page settles', async () => {
    const page = await signedIn('search-gus');
    // Types as soon as the box is in the DOM, before the page's first effects run (on a loaded host a
    // user, or Playwright, can be that quick).
    await page.evaluate(
      () =>
        new Promise<void>((resolve) => {
          const seen = new MutationObserver(() => {
            const input = document.querySelector<HTMLInputElement>('input[placeholder="Search messages"]');
            if (!input) return;
            seen.disconnect();
            input.value = 'zeppelin';
            input.dispatchEvent(new Event('input', { bubbles: true }));
            resolve();
          });
          seen.observe(document.body, { childList: true, subtree: true });
          location.hash = '#/ops/conversations';
        }),
    );
    const box = page.getByRole('searchbox', { name: 'Search messages' });
    await box.press('Enter');
    await expect.poll(() => page.url(), { timeout: 30_000 }).toContain('q=zeppelin');
    expect(await box.inputValue()).toBe('zeppelin');
    await page.context().close();
  }, 60_000);
});
