// Steering from the pages: cancel and retry a node from the tree's node panel, and tell a node that has not asked
// something from its chat; what it was told reaches its model call (the scripted report quotes it).
import type { Page } from '@playwright/test';
import { behindLegend, expect, lifecycleOf, signUp, test, uniqueName } from './fixtures';

const GOAL = 'Ask the user for their favourite colour\nWrite a haiku about it';

async function selectNode(page: Page, id: string): Promise<void> {
  await expect.poll(() => page.evaluate((id) => window.__treeDebug?.nodePosition(id) ?? null, id), { timeout: 20_000 }).not.toBeNull();
  const p = (await page.evaluate((id) => window.__treeDebug!.nodePosition(id), id))!;
  await page.mouse.click(p.x, p.y);
  await expect(page.getByTestId('node-panel')).toContainText(id);
}

test('cancel and retry a node from the node panel, and tell a node that has not asked', async ({ page }) => {
  await signUp(page, uniqueName('steer'), 'correct horse battery');
  await page.getByLabel('Name (optional)').fill('Steered haiku');
  await page.getByLabel('Goal').fill(GOAL);
  await page.getByRole('button', { name: 'Create swarm' }).click();
  const card = page.getByTestId('swarm-card').filter({ hasText: 'Steered haiku' });
  await card.getByRole('button', { name: 'Spawn' }).click();
  await card.getByRole('link', { name: 'Open tree of Steered haiku' }).click();
  await expect(page.getByTestId('tree-canvas')).toBeVisible();

  // the question is open; pause so that nothing moves while we steer
  await expect(page.getByTestId('tree-summary')).toContainText('waiting on you', { timeout: 20_000, ignoreCase: true });
  await page.getByRole('button', { name: 'Pause' }).click();
  await expect(page.getByRole('button', { name: 'Resume' })).toBeVisible();

  // cancel the question from its node panel: it ends, and offers a retry
  await selectNode(page, 'n.1');
  const panel = page.getByTestId('node-panel');
  await panel.getByRole('button', { name: 'Cancel node' }).click();
  await expect(panel).toContainText('Cancelled');
  await expect(panel).toContainText('cancelled by the person');
  await panel.getByRole('button', { name: 'Retry node' }).click();
  await expect(panel).toContainText('attempt 2');
  await expect(panel.getByRole('button', { name: 'Cancel node' })).toBeVisible();

  // the haiku was cancelled with its prerequisite: retry it too, then tell it something from its chat
  await selectNode(page, 'n.2');
  await expect(panel).toContainText('prerequisite n.1');
  await panel.getByRole('button', { name: 'Retry node' }).click();
  await expect(panel).toContainText('attempt 2');
  await panel.getByRole('link', { name: "Open this node's chat" }).click();
  const box = page.getByLabel('Tell this agent something (it reads it at its next step)');
  await box.fill('use the word sea');
  await box.press('Enter');
  await expect(page.getByRole('log', { name: 'Messages' })).toContainText('use the word sea');

  // resume, answer the question, and the haiku's report shows what it was told
  await page.getByRole('button', { name: 'Resume' }).click();
  await page.getByRole('navigation', { name: 'Swarm views' }).getByRole('link', { name: 'Chat' }).click();
  await page.getByRole('region', { name: 'Waiting on you' }).getByTestId('chat-item').click({ timeout: 20_000 });
  await page.getByLabel('Your reply').fill('blue');
  await page.getByLabel('Your reply').press('Enter');
  await page.getByRole('navigation', { name: 'Swarm views' }).getByRole('link', { name: 'Tree' }).click();
  await selectNode(page, 'n.2');
  await expect(panel).toContainText('Done: "Write a haiku about it" (with: blue) (told: use the word sea)', { timeout: 30_000 });
});

test('cancel and retry from the chat page, and the history slider replays the cancel', async ({ page }) => {
  await signUp(page, uniqueName('steerchat'), 'correct horse battery');
  await page.getByLabel('Name (optional)').fill('Steered from chat');
  await page.getByLabel('Goal').fill(GOAL);
  await page.getByRole('button', { name: 'Create swarm' }).click();
  const card = page.getByTestId('swarm-card').filter({ hasText: 'Steered from chat' });
  await card.getByRole('button', { name: 'Spawn' }).click();
  await card.getByRole('link', { name: 'Open tree of Steered from chat' }).click();
  await expect(page.getByTestId('tree-summary')).toContainText('waiting on you', { timeout: 20_000, ignoreCase: true });
  await page.getByRole('button', { name: 'Pause' }).click();
  await expect(page.getByRole('button', { name: 'Resume' })).toBeVisible();

  // the haiku's chat (it waits for the question): cancel it from the node info, then retry it
  const swarmUrl = page.url().replace(/\/tree.*$/, '');
  await page.goto(`${swarmUrl}/chat/chat-n.2`);
  const info = page.locator('.node-info');
  await info.getByRole('button', { name: 'Cancel node' }).click();
  await expect(info.getByRole('button', { name: 'Retry node' })).toBeVisible();
  await expect(info).toContainText('Cancelled');
  await info.getByRole('button', { name: 'Retry node' }).click();
  await expect(info).toContainText('attempt 2');
  await expect(info.getByRole('button', { name: 'Cancel node' })).toBeVisible();

  // the slider brings back the cancel: some event shows the haiku cancelled, the last one its second attempt
  await page.getByRole('navigation', { name: 'Swarm views' }).getByRole('link', { name: 'Tree' }).click();
  await expect(page.getByTestId('tree-canvas')).toBeVisible();
  await expect.poll(() => lifecycleOf(page, 'n.2'), { timeout: 20_000 }).toBe('waiting_deps');
  const slider = page.getByRole('slider', { name: 'History position' });
  await slider.focus();
  await slider.press('End');
  let found = false;
  for (let k = 0; k < 20 && !found; k++) {
    await slider.press('ArrowLeft');
    found = (await lifecycleOf(page, 'n.2')) === 'cancelled';
  }
  expect(found).toBe(true);
  await expect(page.getByTestId('tree-summary')).toContainText('At event');
});

test('retrying a swarm that a limit stopped shows why it is refused, and changes nothing', async ({ page }) => {
  await signUp(page, uniqueName('limit'), 'correct horse battery');
  await page.getByLabel('Name (optional)').fill('Deep chain');
  await page.getByLabel('Goal').fill('Plan: '.repeat(13) + 'write the last line');
  await page.getByRole('button', { name: 'Create swarm' }).click();
  const card = page.getByTestId('swarm-card').filter({ hasText: 'Deep chain' });
  await card.getByRole('button', { name: 'Spawn' }).click();
  await card.getByRole('link', { name: 'Open tree of Deep chain' }).click();
  await expect(page.locator('.swarm-head .failure')).toContainText('depth limit 8 reached at node n.1.1.1.1.1.1.1', { timeout: 30_000 });
  // the whole chain is in view at Fit, above the open legend: the node that hit the limit was behind it
  const chain = Array.from({ length: 8 }, (_, i) => ['n', ...Array<string>(i).fill('1')].join('.'));
  await expect.poll(() => page.evaluate(() => window.__treeDebug?.nodeCount() ?? 0)).toBe(8);
  await expect.poll(() => behindLegend(page, chain)).toEqual([]);
  await selectNode(page, 'n');
  const panel = page.getByTestId('node-panel');
  await expect(panel).toContainText('No report: it ended without one.'); // not "yet": nothing more will come
  await panel.getByRole('button', { name: 'Retry node' }).click();
  const alert = panel.getByRole('alert');
  await expect(alert).toContainText('the swarm stopped on its depth limit 8');
  await expect(alert).toContainText('limits.max_depth is above 8');
  await expect(panel.getByRole('button', { name: 'Retry node' })).toBeEnabled();
  await expect(page.locator('.swarm-head .failure')).toContainText('depth limit 8');
});
