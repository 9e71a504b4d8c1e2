import { describe, expect, test } from 'vitest';
import { ARTIFACTS, useBrowserStack } from './support/browser-stack.js';
import { startProxy } from './support/proxy.js';
import { mintToken } from './support/stack.js';
import { conversationShown, finished, send, signedIn as signIn } from './support/ui.js';

const env = useBrowserStack('webchat');

const signedIn = (user: string, opts: { admin?: boolean; width?: number; url?: string } = {}) => signIn(env.chrome, opts.url ?? env.stack.url, user, opts);

describe('web chat in a real browser (gateway + services + dev model)', () => {
  test('sign in, stream an answer, see a tool step, reload and see the history', async () => {
    const page = await signedIn('web-alice');
    const first = await send(page, 'hello there [[slow:60]] [[tokens:40]]');
    // Seen mid-stream: part of the text on screen while the turn still streams.
    await page.waitForFunction(
      () => {
        const t = [...document.querySelectorAll('article.turn-assistant')].at(-1);
        return t?.getAttribute('data-status') === 'streaming' && (t.querySelector('.bubble')?.textContent ?? '').includes('ok');
      },
      undefined,
      { timeout: 30_000 },
    );
    await finished(first).toBe('done');
    expect((await first.locator('.bubble').innerText()).trim()).toBe(Array(40).fill('ok').join(' '));

    const second = await send(page, 'What time is it right now? [[tool:current_time]]');
    await finished(second).toBe('done');
    const steps = second.locator('.step');
    await expect.poll(() => steps.count()).toBeGreaterThanOrEqual(2);
    // textContent: once the answer is done its timeline folds (a closed <details>), innerText would be empty.
    expect(await steps.first().locator('.step-name').textContent()).toBe('current_time');
    expect(await second.locator('.bubble').innerText()).toContain('current_time returned');
    // The finished answer's timeline is folded; the keyboard opens it (and the screenshot shows it).
    await second.locator('.steps summary').focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => second.locator('.steps').getAttribute('open')).not.toBeNull();
    expect(await second.locator('.step-name').first().isVisible()).toBe(true);
    await page.screenshot({ path: `${ARTIFACTS}web-chat.png`, fullPage: true });

    await page.reload();
    await expect.poll(() => page.locator('article.turn-user').count(), { timeout: 30_000 }).toBe(2);
    expect(await page.locator('article.turn-user').first().innerText()).toContain('hello there');
    expect(await page.locator('article.turn-assistant .step-name').first().textContent()).toBe('current_time');
    await expect.poll(() => page.locator('.conv-list a[aria-current="page"]').count(), { timeout: 30_000 }).toBe(1);
    await page.context().close();
  }, 120_000);

  test('model output with HTML renders as text: no element, no script runs', async () => {
    const page = await signedIn('web-mallory');
    const evil = '<img src=x onerror="window.__pwned=1"> <script>window.__pwned=2</script> **bold** [x](javascript:window.__pwned=3)';
    const answer = await send(page, evil);
    await finished(answer).toBe('done');
    const bubble = answer.locator('.bubble');
    expect(await bubble.innerText()).toContain('<img src=x onerror="window.__pwned=1">');
    expect(await bubble.innerText()).toContain('<script>window.__pwned=2</script>');
    expect(await page.locator('.log img, .log script, .log a[href^="javascript"]').count()).toBe(0);
    expect(await bubble.locator('strong').innerText()).toBe('bold');
    expect(await page.evaluate(() => (window as { __pwned?: number }).__pwned)).toBeUndefined();
    await page.context().close();
  }, 90_000);

  test('stop cancels a streaming run', async () => {
    const page = await signedIn('web-bob');
    const answer = await send(page, 'a long one [[slow:150]] [[tokens:400]]');
    await expect.poll(() => answer.locator('.bubble').textContent(), { timeout: 30_000 }).toContain('ok');
    await page.getByRole('button', { name: 'Stop' }).click();
    await finished(answer).toBe('cancelled');
    expect(await answer.locator('.note').innerText()).toBe('Stopped.');
    expect(await page.getByRole('button', { name: 'Stop' }).count()).toBe(0);
    await page.context().close();
  }, 90_000);

  test('a reload mid-run resumes the run from its event log', async () => {
    const page = await signedIn('web-carol');
    const answer = await send(page, 'resume me [[slow:100]] [[tokens:60]]');
    await expect.poll(() => answer.locator('.bubble').textContent(), { timeout: 30_000 }).toContain('ok');
    const runId = await answer.getAttribute('data-run-id');
    await page.reload();
    const resumed = page.locator(`article.turn-assistant[data-run-id="${runId}"]`);
    await finished(resumed).toBe('done');
    expect((await resumed.locator('.bubble').innerText()).trim()).toBe(Array(60).fill('ok').join(' '));
    await page.context().close();
  }, 120_000);

  test('a dropped connection shows as reconnecting, then the run resumes without gaps or repeats', async () => {
    const proxy = await startProxy(env.stack.url);
    try {
      const page = await signedIn('web-dave', { url: proxy.url });
      // Every state the badge shows, however briefly: the reconnect may take only milliseconds.
      await page.evaluate(() => {
        const seen: string[] = [];
        (window as { __states?: string[] }).__states = seen;
        const badge = document.querySelector('.conn');
        if (!badge) throw new Error('no connection badge');
        new MutationObserver(() => seen.push(badge.getAttribute('data-state') ?? '')).observe(badge, { attributes: true });
      });
      const answer = await send(page, 'survive a blip [[slow:100]] [[tokens:50]]');
      await expect.poll(() => answer.locator('.bubble').textContent(), { timeout: 30_000 }).toContain('ok');
      expect(await answer.getAttribute('data-status')).toBe('streaming');
      proxy.cut();
      await finished(answer).toBe('done');
      expect((await answer.locator('.bubble').innerText()).trim()).toBe(Array(50).fill('ok').join(' '));
      const states = await page.evaluate(() => (window as { __states?: string[] }).__states ?? []);
      expect(states).toContain('reconnecting');
      expect(states.at(-1)).toBe('online');
      await page.context().close();
    } finally {
      await proxy.close();
    }
  }, 120_000);

  test('a pasted token signs in as a plain user; an expired one lands back on sign-in with the reason', async () => {
    const ctx = await env.chrome.browser.newContext();
    const page = await ctx.newPage();
    await page.goto(env.stack.url);
    await page.getByLabel('Bearer token (JWT)').fill(mintToken({ sub: 'web-plain' }));
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    // Not just 'online': the composer takes a message only once the history is shown, a moment after the socket opens.
    await conversationShown(page);
    expect(await page.getByRole('link', { name: 'Operator', exact: true }).count()).toBe(0);
    const answer = await send(page, 'hi [[tokens:3]]');
    await finished(answer).toBe('done');
    await page.getByRole('button', { name: 'Sign out' }).click();

    await page.getByLabel('Bearer token (JWT)').fill(mintToken({ sub: 'web-plain', expiresIn: -600 }));
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    // Whichever notices first (the socket's 4401 or a REST 401) signs out and says why.
    await expect.poll(() => page.getByRole('alert').first().textContent(), { timeout: 30_000 }).toMatch(/expired/i);
    // The dev sign-in shows once the page has read the gateway's sign-in options (GET /auth/config).
    await expect.poll(() => page.getByRole('button', { name: 'Sign in with a dev token' }).isVisible()).toBe(true);
    await ctx.close();
  }, 90_000);

  test('an answer to a session that already ended signs nobody out and shows no reason', async () => {
    const page = await signedIn('web-leaver');
    // Hold the conversation list's request until the session has ended, then answer it 401 (its token expired meanwhile).
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let seen!: () => void;
    const intercepted = new Promise<void>((r) => (seen = r));
    await page.route(/\/api\/v1\/me\/conversations/, async (route) => {
      seen();
      await held;
      await route.fulfill({
        status: 401,
        contentType: 'application/json',
        body: JSON.stringify({ code: 'unauthorized', message: 'your sign-in expired; sign in again', retryable: false }),
      });
    });
    await page.getByRole('button', { name: 'New conversation' }).click();
    await intercepted;
    await page.getByRole('button', { name: 'Sign out' }).click();
    const refused = page.waitForResponse((r) => /\/api\/v1\/me\/conversations/.test(r.url()) && r.status() === 401);
    release();
    await refused;
    await page.evaluate(() => new Promise((r) => setTimeout(r, 50)));
    expect(await page.getByRole('button', { name: 'Sign in with a dev token' }).isVisible()).toBe(true);
    expect(await page.getByRole('alert').allTextContents()).toEqual([]);
    await page.context().close();
  }, 90_000);

  test("someone else's conversation in the address is refused; Reconnect starts a fresh one", async () => {
    const owner = await signedIn('web-owner');
    await finished(await send(owner, 'mine [[tokens:3]]')).toBe('done');
    const theirs = owner.url().split('#/chat/')[1];
    await owner.context().close();

    const ctx = await env.chrome.browser.newContext();
    const page = await ctx.newPage();
    await page.goto(env.stack.url);
    await page.getByLabel('Bearer token (JWT)').fill(mintToken({ sub: 'web-intruder' }));
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await conversationShown(page);
    await page.goto(`${env.stack.url}/#/chat/${theirs}`);
    await page.reload();
    await expect.poll(() => page.locator('.conn').getAttribute('data-state'), { timeout: 30_000 }).toBe('offline');
    expect(await page.locator('.conn').innerText()).toContain('not yours');
    expect(await page.locator('article.turn').count()).toBe(0);
    await page.getByRole('button', { name: 'Reconnect' }).click();
    await expect.poll(() => page.locator('.conn').getAttribute('data-state'), { timeout: 30_000 }).toBe('online');
    expect(page.url()).not.toContain(theirs);
    await ctx.close();
  }, 90_000);

  test('the gateway serves the UI with a content security policy and immutable hashed assets', async () => {
    const page = await fetch(`${env.stack.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('cache-control')).toBe('no-cache');
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(await page.text())?.[1];
    expect(asset).toBeTruthy();
    const js = await fetch(`${env.stack.url}${asset}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('cache-control')).toContain('immutable');
    expect((await fetch(`${env.stack.url}/api/v1/nope`)).status).toBe(404);
  });
});
