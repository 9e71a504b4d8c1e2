/**
 * In a real browser: an agent whose current_time calls need the user's approval. The chat shows the call and its
 * arguments on a card (still there after a reload), Approve lets the run go on, and the answer appears.
 */
import { describe, expect, test } from 'vitest';
import { ARTIFACTS, useBrowserStack } from './support/browser-stack.js';
import { mintToken } from './support/stack.js';
import { gatedClockAgent } from '../support/agents.js';
import { conversationShown, finished, send, signedIn } from './support/ui.js';

const env = useBrowserStack('webapproval');

async function createGatedAgent(agentId = 'gated', approver: 'user' | 'operator' = 'user'): Promise<void> {
  const res = await fetch(`${env.stack.url}/api/v1/agents`, {
    method: 'POST',
    headers: { authorization: `Bearer ${mintToken({ sub: 'approval-admin', roles: ['admin'] })}`, 'content-type': 'application/json' },
    body: JSON.stringify(gatedClockAgent(agentId, 'Gated clock', approver)),
  });
  expect(res.status, await res.text()).toBe(201);
}

describe('approval interrupts in a real browser', () => {
  test('the chat shows the paused call with its arguments, keeps it across a reload, and Approve brings the answer', async () => {
    await createGatedAgent();
    const page = await signedIn(env.chrome, env.stack.url, 'approval-gus', { width: 1280 });
    await page.goto(`${env.stack.url}/#/chat?agent=gated`);
    await conversationShown(page);
    const answer = await send(page, 'What time is it?');
    const card = answer.getByRole('group', { name: 'Approval for current_time' });
    await expect.poll(() => card.count(), { timeout: 30_000 }).toBe(1);
    // The arguments the model chose, as JSON (the dev model fills current_time's timezone).
    expect(JSON.parse(await card.locator('.approval-args').innerText())).toEqual(expect.any(Object));
    expect(await card.innerText()).toContain('The agent wants to run current_time');
    expect(await answer.getAttribute('data-status')).toBe('streaming');

    // The run waits on the server, not in the page: after a reload the card is back.
    await page.reload();
    await conversationShown(page);
    const again = page.locator('article.turn-assistant').last().getByRole('group', { name: 'Approval for current_time' });
    await expect.poll(() => again.count(), { timeout: 30_000 }).toBe(1);
    await page.screenshot({ path: `${ARTIFACTS}web-approval-card.png`, fullPage: true });

    await again.getByRole('button', { name: 'Approve' }).click();
    const turn = page.locator('article.turn-assistant').last();
    await finished(turn).toBe('done');
    expect(await turn.locator('.bubble').innerText()).toContain('current_time returned');
    expect(await turn.getByRole('group', { name: 'Approval for current_time' }).count()).toBe(0);
    await page.context().close();
  }, 120_000);

  test('an agent that leaves approvals to operators: the user sees who it waits for; an operator approves on the run page and the answer reaches the chat', async () => {
    await createGatedAgent('gated-ops', 'operator');
    const page = await signedIn(env.chrome, env.stack.url, 'approval-hal', { admin: false, width: 390 });
    await page.goto(`${env.stack.url}/#/chat?agent=gated-ops`);
    await conversationShown(page);
    const answer = await send(page, 'What time is it?');
    const card = answer.getByRole('group', { name: 'Approval for current_time' });
    await expect.poll(() => card.count(), { timeout: 30_000 }).toBe(1);
    expect(await card.innerText()).toContain('Waiting for an operator to approve it.');
    expect(await card.getByRole('button').count()).toBe(0);
    const runId = await answer.getAttribute('data-run-id');

    const ops = await signedIn(env.chrome, env.stack.url, 'approval-ida', { width: 1280 });
    await ops.goto(`${env.stack.url}/#/ops/runs/${runId}`);
    const opsCard = ops.getByRole('group', { name: 'Approval for current_time' });
    await expect.poll(() => opsCard.count(), { timeout: 30_000 }).toBe(1);
    await ops.screenshot({ path: `${ARTIFACTS}web-approval-run-page.png`, fullPage: true });
    await opsCard.getByRole('button', { name: 'Approve' }).click();

    await finished(answer).toBe('done');
    expect(await answer.locator('.bubble').innerText()).toContain('current_time returned');
    await page.screenshot({ path: `${ARTIFACTS}web-approval-operator-phone.png`, fullPage: true });
    await ops.context().close();
    await page.context().close();
  }, 120_000);
});
