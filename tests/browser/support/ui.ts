/** What every browser test does on the chat page: sign in, send, wait for an answer. */
import { expect } from 'vitest';
import type { Locator, Page, TestBrowser } from '../../../apps/web/test-support/browser.js';

/** A fresh browser context signed in through the dev-token button as `user`. */
export async function signedIn(chrome: TestBrowser, url: string, user: string, opts: { admin?: boolean; width?: number } = {}): Promise<Page> {
  const ctx = await chrome.browser.newContext({ viewport: { width: opts.width ?? 1280, height: 860 } });
  const page = await ctx.newPage();
  await page.goto(url);
  await page.getByLabel('User id').fill(user);
  if (opts.admin === false) await page.getByLabel('Operator (admin role)').uncheck();
  await page.getByRole('button', { name: 'Sign in with a dev token' }).click();
  await conversationShown(page);
  return page;
}

/**
 * Connected AND the conversation's history is shown (its id is in the address). The socket opens
 * before the history arrives; a test that navigates in between would have its address replaced.
 */
export async function conversationShown(page: Page): Promise<void> {
  await expect.poll(() => page.locator('.conn').getAttribute('data-state'), { timeout: 30_000 }).toBe('online');
  await expect.poll(() => page.url(), { timeout: 30_000 }).toMatch(/#\/chat\/[^/?]+$/);
}

/** Sends `text` and returns the answer's turn (the new one, not the previous answer still on screen). */
export async function send(page: Page, text: string): Promise<Locator> {
  const answers = page.locator('article.turn-assistant');
  const before = await answers.count();
  await page.getByRole('textbox', { name: 'Message' }).fill(text);
  // Enter in a composer that does not take messages yet does nothing; say so now rather than after the poll's 30 s.
  if (await page.getByRole('button', { name: 'Send', exact: true }).isDisabled()) {
    throw new Error('the composer does not take messages yet (Send is disabled): wait with conversationShown() before send()');
  }
  await page.getByRole('textbox', { name: 'Message' }).press('Enter');
  await expect.poll(() => answers.count(), { timeout: 30_000 }).toBe(before + 1);
  return answers.nth(before);
}

export const finished = (answer: Locator) => expect.poll(() => answer.getAttribute('data-status'), { timeout: 60_000 });
