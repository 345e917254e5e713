// The whole journey in a real browser against `aga-swarm serve` with the scripted model.
import type { Page } from '@playwright/test';
import { expect, expectAccessible, signUp, snap, test, uniqueName, logIn } from './fixtures';

const GOAL = 'Ask the user for their favourite colour\nWrite a haiku about it\nPlan: a; b; c';
const PASSWORD = 'correct horse battery';

test.describe.configure({ mode: 'serial' });

async function nodeCount(page: Page): Promise<number> {
  return page.evaluate(() => window.__treeDebug?.nodeCount() ?? 0);
}

/** The node count the accessible summary states (it must agree with what the canvas draws). */
async function summaryCount(page: Page): Promise<number> {
  const text = (await page.getByTestId('tree-summary').textContent()) ?? '';
  const m = text.match(/(\d[\d,]*) nodes?:/);
  return m ? Number(m[1]!.replace(/,/g, '')) : 0;
}

test('sign up, run a swarm, answer it, scrub its history, inspect a node, and keep users apart', async ({ page }) => {
  const alice = uniqueName('alice');
  const bob = uniqueName('bob');

  // ---- sign up (with a too-short password first) ----
  await page.goto('/signup');
  await expect(page.getByRole('heading', { name: 'Create your account' })).toBeVisible();
  await page.getByLabel('Username').fill(alice);
  await page.getByLabel('Password').fill('short');
  await page.getByRole('button', { name: 'Sign up' }).click();
  await expect(page.getByRole('alert')).toContainText('Password must be at least 8 characters');
  await snap(page, 'signup-short-password');
  await expectAccessible(page, 'sign up');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await expect(page.getByRole('heading', { name: 'Swarms', level: 1 })).toBeVisible();
  await expect(page.getByText('No swarms yet.')).toBeVisible();
  await snap(page, 'swarms-empty');
  await expectAccessible(page, 'swarms (empty)');

  // ---- create and spawn ----
  await page.getByLabel('Name (optional)').fill('Colour haiku');
  await page.getByLabel('Goal').fill(GOAL);
  await page.getByRole('button', { name: 'Create swarm' }).click();
  const card = page.getByTestId('swarm-card').filter({ hasText: 'Colour haiku' });
  await expect(card.getByTestId('status-badge')).toHaveText(/Draft/);
  await snap(page, 'swarm-created');
  await expectAccessible(page, 'swarms (one draft)');
  await card.getByRole('button', { name: 'Spawn' }).click();
  await expect(card.getByTestId('status-badge')).toHaveText(/Running/);
  await snap(page, 'swarm-spawned');

  // ---- watch nodes appear in the tree ----
  await card.getByRole('link', { name: 'Open tree of Colour haiku' }).click();
  await expect(page.getByTestId('tree-canvas')).toBeVisible();
  await expect.poll(() => nodeCount(page), { timeout: 20_000 }).toBeGreaterThanOrEqual(4);
  await expect(page.getByTestId('tree-summary')).toContainText(/\d+ nodes:/);
  await expect(page.getByText('Waiting on you').first()).toBeVisible();
  await snap(page, 'tree-growing');
  await expectAccessible(page, 'tree');
  const swarmUrl = new URL(page.url());
  const swarmId = swarmUrl.pathname.split('/')[2]!;

  // ---- the swarm goes idle while it waits on us: the socket closes and says why ----
  await expect(page.getByTestId('connection')).toContainText('Idle: waiting for your reply', { timeout: 20_000 });

  // ---- answer in the chat: too short first (the send fails once and is retried), then a real answer ----
  await page.getByRole('navigation', { name: 'Swarm views' }).getByRole('link', { name: 'Chat' }).click();
  const waiting = page.getByRole('region', { name: 'Waiting on you' }).getByTestId('chat-item');
  await expect(waiting).toHaveCount(1);
  await expect(waiting.getByRole('img', { name: 'Unread' })).toBeVisible();
  await waiting.click();
  await expect(page.getByTestId('message').first()).toContainText('I need your input on this');
  await expect(page.getByTestId('message').first().locator('strong')).toContainText('favourite colour');
  await snap(page, 'chat-question');
  await expectAccessible(page, 'chat');

  // Node info panel: journal and prompts as plain role/content.
  await page.getByRole('button', { name: 'Node info' }).click();
  await expect(page.getByRole('heading', { name: 'Journal' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Prompts' })).toBeVisible();
  await page.locator('.prompt-call summary').first().click();
  await expect(page.locator('.prompt-role').first()).toHaveText(/system|user/);
  await snap(page, 'chat-node-info');
  await page.getByRole('button', { name: 'Hide node info' }).click();

  // The first send fails (network), stays on screen, and is retried.
  let failNext = true;
  await page.route('**/api/swarms/*/chats/*/messages', async (route) => {
    if (route.request().method() === 'POST' && failNext) {
      failNext = false;
      await route.abort('connectionrefused');
    } else {
      await route.fallback();
    }
  });
  const reply = page.getByLabel('Your reply');
  await reply.fill('x');
  await reply.press('Enter');
  const pending = page.getByTestId('pending-message');
  await expect(pending).toHaveAttribute('data-status', 'failed');
  await expect(pending).toContainText("Can't reach the AGA Swarm server");
  await snap(page, 'chat-send-failed');
  await pending.getByRole('button', { name: 'Retry' }).click();
  await expect(pending).toHaveCount(0);
  // The reply woke the swarm: the socket reconnects (and catches up) to bring the follow-up.
  await expect(page.getByTestId('connection')).toHaveAttribute('data-state', /^(connecting|catching_up|live)$/);
  await expect(page.getByTestId('message').filter({ hasText: 'Could you say a little more' })).toBeVisible({ timeout: 20_000 });
  await snap(page, 'chat-followup');

  // Shift+Enter adds a line; Enter sends.
  await expect(reply).toBeVisible();
  await reply.fill('blue');
  await reply.press('Shift+Enter');
  await reply.pressSequentially('like the sea');
  await expect(reply).toHaveValue('blue\nlike the sea');
  await reply.press('Enter');
  await expect(page.getByTestId('message').filter({ hasText: 'Thank you, that is what I needed.' })).toBeVisible({ timeout: 20_000 });
  await expect(page.getByText('This conversation is closed.')).toBeVisible();
  await snap(page, 'chat-answered');

  // ---- the swarm completes ----
  const header = page.locator('.swarm-head');
  await expect(header.getByTestId('status-badge')).toHaveText(/Completed/, { timeout: 30_000 });
  await expect(page.getByTestId('connection')).toContainText('Not live: finished');

  // "Show in tree" opens the tree with the node highlighted.
  await page.getByRole('button', { name: 'Show in tree' }).click();
  await expect(page).toHaveURL(/\/tree\?node=/);
  await expect(page.getByTestId('node-panel')).toBeVisible();
  await expect(page.getByTestId('tree-summary')).toContainText(/^\d+ nodes: \d+ done\.$/);
  const total = await nodeCount(page);
  expect(total).toBeGreaterThanOrEqual(7);
  await snap(page, 'tree-complete-highlighted');
  await page.getByRole('button', { name: 'Close node details' }).click();

  // ---- drag the slider back: the earlier tree ----
  const slider = page.getByRole('slider', { name: 'History position' });
  const box = (await slider.boundingBox())!;
  await page.mouse.move(box.x + box.width - 4, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2, { steps: 8 });
  await page.mouse.move(box.x + box.width * 0.12, box.y + box.height / 2, { steps: 8 });
  await page.mouse.up();
  await expect(page.getByTestId('tree-summary')).toContainText('At event');
  await expect.poll(() => nodeCount(page)).toBeLessThan(total);
  await expect.poll(async () => (await summaryCount(page)) === (await nodeCount(page))).toBe(true);
  await expect(page.getByTestId('tree-summary')).not.toContainText(`${total} nodes: ${total} done`);
  await snap(page, 'tree-history-earlier');
  await expectAccessible(page, 'tree (history)');
  // Step one event forward and back.
  const before = Number(await slider.inputValue());
  await page.getByRole('button', { name: 'Step forward one event' }).click();
  await expect(slider).toHaveValue(String(before + 1));
  await page.getByRole('button', { name: 'Step back one event' }).click();
  await expect(slider).toHaveValue(String(before));
  // The chat list shows that point too.
  await page.getByRole('navigation', { name: 'Swarm views' }).getByRole('link', { name: 'Chat' }).click();
  await expect(page.getByText(/Showing history at event/)).toBeVisible();
  await snap(page, 'chat-at-history-point');
  await page.getByRole('link', { name: 'Back to the slider' }).click();
  // Play a little, then back to live.
  await page.getByRole('button', { name: 'Play history' }).click();
  await expect(page.getByRole('button', { name: 'Pause history' })).toBeVisible();
  await expect.poll(async () => Number(await slider.inputValue())).toBeGreaterThan(before);
  await page.getByRole('button', { name: 'Pause history' }).click();
  await page.getByRole('button', { name: 'Live', exact: true }).click();
  await expect(page.getByTestId('tree-summary')).not.toContainText('At event');
  await expect.poll(() => nodeCount(page)).toBe(total);

  // ---- click a node: its developer log ----
  const pos = await page.evaluate(() => window.__treeDebug?.nodePosition('n') ?? null);
  expect(pos).not.toBeNull();
  await page.mouse.click(pos!.x, pos!.y);
  const panel = page.getByTestId('node-panel');
  await expect(panel).toBeVisible();
  await expect(page).toHaveURL(/node=n(&|$)/);
  const calls = panel.getByTestId('llm-call');
  await expect(calls.first()).toBeVisible();
  await calls.first().locator('summary').click();
  await expect(calls.first()).toContainText('scripted-1');
  await expect(calls.first()).toContainText('attempt 1');
  await expect(calls.first()).toContainText(/\d+ in, \d+ out/);
  await expect(calls.first()).toContainText('Latency');
  await expect(calls.first()).toContainText('Cost');
  await expect(calls.first().locator('.prompt-role').first()).toBeVisible();
  await expect(panel.getByRole('heading', { name: 'Journal' })).toBeVisible();
  await expect(panel.getByRole('heading', { name: 'Report' })).toBeVisible();
  await snap(page, 'tree-developer-log');
  await expectAccessible(page, 'tree (node panel)');
  // The same panel at an earlier point of the history: the journal and developer log as they were then.
  const liveCalls = await calls.count();
  await slider.focus();
  await slider.press('Home');
  for (let i = 0; i < 20; i++) await slider.press('ArrowRight');
  await expect(slider).toHaveValue('20');
  await expect(panel.getByTestId('detail-as-of')).toContainText('as of event 20');
  await expect.poll(() => calls.count()).toBeLessThan(liveCalls);
  await page.getByRole('button', { name: 'Live', exact: true }).click();
  await expect(panel.getByTestId('detail-as-of')).toHaveCount(0);
  await expect.poll(() => calls.count()).toBe(liveCalls);

  // ---- fork the swarm as it was at an earlier event ----
  await page.getByRole('button', { name: 'Close node details' }).click();
  await slider.focus();
  await slider.press('Home');
  for (let i = 0; i < 20; i++) await slider.press('ArrowRight');
  await expect(slider).toHaveValue('20');
  await expect.poll(() => nodeCount(page)).toBeLessThan(total);
  const forkedNodes = await nodeCount(page);
  await page.getByRole('button', { name: 'Fork from here' }).click();
  await expect(page).not.toHaveURL(new RegExp(swarmId));
  await expect(page.locator('.swarm-head').getByTestId('status-badge')).toHaveText(/Paused/);
  await expect.poll(() => nodeCount(page)).toBe(forkedNodes);
  await expect(page.getByRole('button', { name: 'Resume' })).toBeVisible();
  await snap(page, 'forked-at-event-20');

  // ---- log out ----
  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page.getByRole('heading', { name: 'Log in' })).toBeVisible();
  await snap(page, 'logged-out');
  await expectAccessible(page, 'log in');

  // ---- a second user sees none of it ----
  await signUp(page, bob, PASSWORD);
  await expect(page.getByText('No swarms yet.')).toBeVisible();
  await expect(page.getByText('Colour haiku')).toHaveCount(0);
  await snap(page, 'second-user-empty');
  await page.goto(`/swarms/${swarmId}/tree`);
  await expect(page.getByText('This swarm could not be loaded.')).toBeVisible();
  await snap(page, 'second-user-cannot-open');
  await page.getByRole('button', { name: 'Log out' }).click();

  // And the first user still has it.
  await logIn(page, alice, PASSWORD);
  const original = page.getByTestId('swarm-card').filter({ has: page.getByRole('heading', { name: 'Colour haiku', exact: true }) });
  await expect(original.getByTestId('status-badge')).toHaveText(/Completed/);
  await expect(page.getByTestId('swarm-card')).toHaveCount(2); // and its fork
  await snap(page, 'first-user-again');
});
