/**
 * Conversations that follow the user, in a real browser: two devices (two browser contexts, no
 * shared storage) signed in as the same plain user. The second one opens on the first one's
 * conversation, lists it (from the server) and shows its history; "New conversation" starts a
 * fresh one that opens with the agent's greeting.
 */
import { describe, expect, test } from 'vitest';
import { useBrowserStack } from './support/browser-stack.js';
import { mintToken } from './support/stack.js';
import { finished, send, signedIn } from './support/ui.js';

const env = useBrowserStack('webcont');
const GREETING = 'Welcome back to Parley. What shall we look at?';

async function setGreeting(): Promise<void> {
  const headers = { authorization: `Bearer ${mintToken({ sub: 'cont-admin', roles: ['admin'] })}`, 'content-type': 'application/json' };
  const list = (await (await fetch(`${env.stack.url}/api/v1/agents`, { headers })).json()) as { agents: Array<{ agentId: string }> };
  const res = await fetch(`${env.stack.url}/api/v1/agents/${list.agents[0]!.agentId}`, {
    method: 'PUT',
    headers,
    body: JSON.stringify({ greeting: GREETING }),
  });
  expect(res.status).toBe(200);
}

describe('continuity in the browser', () => {
  test("a second device opens on the first one's conversation, lists it and shows its history; New conversation greets", async () => {
    // Before any socket of the tenant opens: the gateway caches a tenant's agents briefly.
    await setGreeting();
    const laptop = await signedIn(env.chrome, env.stack.url, 'cont-walker', { admin: false });
    const greeting = laptop.locator('article.turn-assistant').first();
    await expect.poll(() => greeting.innerText(), { timeout: 30_000 }).toContain(GREETING);
    await finished(await send(laptop, 'remember the blue door')).toBe('done');
    const first = /#\/chat\/([^/?]+)$/.exec(laptop.url())?.[1];
    expect(first).toBeTruthy();

    // Another device: nothing in its storage, the same user.
    const phone = await signedIn(env.chrome, env.stack.url, 'cont-walker', { admin: false });
    await expect.poll(() => phone.url(), { timeout: 30_000 }).toContain(`#/chat/${first}`);
    await expect.poll(() => phone.locator('article.turn-user').count(), { timeout: 30_000 }).toBe(1);
    expect(await phone.locator('article.turn-user').innerText()).toContain('remember the blue door');
    // The greeting was kept in the transcript with the first message.
    expect(await phone.locator('article.turn-assistant').first().innerText()).toContain(GREETING);
    expect(await phone.locator('article.turn-assistant').count()).toBe(2);
    const current = phone.locator('.conv-list a[aria-current="page"] .title');
    await expect.poll(() => current.textContent(), { timeout: 30_000 }).toContain('remember the blue door');

    await phone.getByRole('button', { name: 'New conversation' }).click();
    await expect.poll(() => phone.url(), { timeout: 30_000 }).not.toContain(`#/chat/${first}`);
    await expect.poll(() => phone.locator('article.turn').count()).toBe(1);
    expect(await phone.locator('article.turn-assistant').innerText()).toContain(GREETING);
    await finished(await send(phone, 'now the red window')).toBe('done');

    // Back on the first device: both conversations are listed, newest first.
    await laptop.reload();
    const titles = laptop.locator('.conv-list .title');
    await expect
      .poll(() => titles.allTextContents(), { timeout: 30_000 })
      .toEqual([expect.stringContaining('now the red window'), expect.stringContaining('remember the blue door')]);
    // Opening the other one from the list loads its history.
    await laptop.locator('.conv-list a', { hasText: 'now the red window' }).click();
    await expect
      .poll(() => laptop.locator('article.turn-user').allTextContents(), { timeout: 30_000 })
      .toEqual([expect.stringContaining('now the red window')]);
    await laptop.context().close();
    await phone.context().close();
  }, 180_000);
});
