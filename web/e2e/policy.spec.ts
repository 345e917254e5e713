// The node panel names a node's termination policy: a plan line picks `confirm` for the root, whose review
// re-plans the subtask marked [unconfirmed] once (the scripted model's documented rule) and then completes.
import { expect, lifecycleOf, signUp, test, uniqueName } from './fixtures';

test('the node panel shows the termination policy the plan picked', async ({ page }) => {
  await signUp(page, uniqueName('policy'), 'correct horse battery');
  await page.getByLabel('Name (optional)').fill('Confirmed poem');
  await page.getByLabel('Goal').fill('Policy: confirm\nWrite a poem [unconfirmed]');
  await page.getByRole('button', { name: 'Create swarm' }).click();
  const card = page.getByTestId('swarm-card').filter({ hasText: 'Confirmed poem' });
  await card.getByRole('button', { name: 'Spawn' }).click();
  await card.getByRole('link', { name: 'Open tree of Confirmed poem' }).click();
  await expect(page.getByTestId('tree-canvas')).toBeVisible();
  await expect.poll(() => lifecycleOf(page, 'n'), { timeout: 30_000 }).toBe('done');
  expect(await lifecycleOf(page, 'n.2')).toBe('done'); // the re-planned subtask

  const root = (await page.evaluate(() => window.__treeDebug!.nodePosition('n')))!;
  await page.mouse.click(root.x, root.y);
  await expect(page.getByTestId('node-policy')).toHaveText('confirm: the task must be confirmed met, or re-planned');
  const leaf = (await page.evaluate(() => window.__treeDebug!.nodePosition('n.2')))!;
  await page.mouse.click(leaf.x, leaf.y);
  await expect(page.getByTestId('node-panel')).toContainText('Write a poem');
  await expect(page.getByTestId('node-policy')).toHaveCount(0); // a leaf with the default policy shows none
});
