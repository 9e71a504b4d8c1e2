/**
 * Operator takeover in two real browsers on two gateway replicas: the user (phone width, replica A) asks
 * for a person; the operator (replica B) sees the waiting count in the console's nav, takes over, both
 * write live, a second operator trying to take over is told who holds it, the operator hands back and
 * the bot answers the user again.
 */
import { describe, expect, test } from 'vitest';
import type { Page } from '../../apps/web/test-support/browser.js';
import { ARTIFACTS, useBrowserStack } from './support/browser-stack.js';
import { overflowing } from './support/layout.js';
import { finished, send, signedIn } from './support/ui.js';

const env = useBrowserStack('webtakeover', { replicas: 2 });

/** The operator console's hand-off desk, once its live feed has read the queue. */
async function openDesk(page: Page, url: string): Promise<void> {
  await page.goto(`${url}/#/ops/handoffs`);
  await expect.poll(() => page.getByTestId('queue-summary').innerText(), { timeout: 30_000 }).toMatch(/\d+ waiting for a person/);
}

describe('operator takeover in the browser', () => {
  test('the user asks for a person, the operator sees the count, takes over, both write live, hands back, the bot answers again', async () => {
    const [userUrl, opsUrl] = env.stack.urls as [string, string];
    const user = await signedIn(env.chrome, userUrl, 'takeover-val', { admin: false, width: 390 });
    const ana = await signedIn(env.chrome, opsUrl, 'takeover-ana', { width: 1280 });
    await openDesk(ana, opsUrl);
    expect(await ana.getByTestId('waiting-count').count()).toBe(0);

    // The dev model calls handoff_to_human on "human"; the run's end puts the conversation in the queue.
    const asked = await send(user, 'I want to talk to a human please');
    await finished(asked).toBe('done');
    await expect
      .poll(
        () =>
          ana
            .getByTestId('waiting-count')
            .innerText()
            .catch(() => ''),
        { timeout: 20_000 },
      )
      .toBe('1');
    const item = ana.locator('.handoff-queue li', { hasText: 'takeover-val' });
    expect(await item.getAttribute('data-state')).toBe('waiting');
    expect(await item.getByTestId('handoff-state').innerText()).toContain('waiting since');
    await ana.screenshot({ path: `${ARTIFACTS}web-handoffs-waiting.png`, fullPage: true });

    await item.getByRole('button', { name: /Take over/ }).click();
    await expect.poll(() => ana.url()).toMatch(/#\/ops\/handoffs\/[^/]+$/);
    await expect.poll(() => item.getByTestId('handoff-state').innerText()).toContain('held by you');
    await expect.poll(() => ana.getByTestId('waiting-count').count()).toBe(0);
    await expect.poll(() => user.locator('.turn-marker', { hasText: 'takeover-ana joined' }).count(), { timeout: 20_000 }).toBe(1);

    // A second operator, on the other replica and a phone, is told who holds it; the desk fits the screen.
    const bruno = await signedIn(env.chrome, userUrl, 'takeover-bruno', { width: 390 });
    await openDesk(bruno, userUrl);
    const brunoItem = bruno.locator('.handoff-queue li', { hasText: 'takeover-val' });
    await expect.poll(() => brunoItem.getByTestId('handoff-state').innerText(), { timeout: 20_000 }).toContain('held by takeover-ana');
    await brunoItem.getByRole('button', { name: /Take over/ }).click();
    await expect.poll(() => bruno.getByRole('alert').innerText()).toContain('takeover-ana already holds this conversation.');
    expect(await overflowing(bruno)).toEqual([]);
    await bruno.screenshot({ path: `${ARTIFACTS}web-handoffs-phone.png`, fullPage: true });
    await bruno.context().close();

    // Live both ways across the replicas.
    await ana.getByLabel('Your message').fill('Hi, I am Ana. How can I help?');
    await ana.getByRole('button', { name: 'Send', exact: true }).click();
    const said = user.locator('article.turn-human', { hasText: 'Hi, I am Ana. How can I help?' });
    await expect.poll(() => said.count(), { timeout: 20_000 }).toBe(1);
    expect(await said.innerText()).toContain('takeover-ana');
    await user.getByRole('textbox', { name: 'Message' }).fill('my order is late');
    await user.getByRole('textbox', { name: 'Message' }).press('Enter');
    const reply = ana.locator('.handoff-conversation li[data-role="user"]', { hasText: 'my order is late' });
    await expect.poll(() => reply.count(), { timeout: 20_000 }).toBe(1);
    await ana.screenshot({ path: `${ARTIFACTS}web-handoffs-held.png`, fullPage: true });

    // Hand back: the user is told, the queue empties, and the bot answers again.
    await ana.getByRole('button', { name: 'Hand back' }).click();
    await expect.poll(() => ana.url()).toMatch(/#\/ops\/handoffs$/);
    await expect.poll(() => ana.locator('.handoff-queue li', { hasText: 'takeover-val' }).count()).toBe(0);
    await expect.poll(() => user.locator('.turn-marker', { hasText: 'takeover-ana left' }).count(), { timeout: 20_000 }).toBe(1);
    const again = await send(user, 'thanks, what time is it?');
    await finished(again).toBe('done');
    expect((await again.locator('.bubble').innerText()).length).toBeGreaterThan(0);
    await user.screenshot({ path: `${ARTIFACTS}web-takeover-user-phone.png`, fullPage: true });
    await ana.context().close();
    await user.context().close();
  }, 180_000);
});
