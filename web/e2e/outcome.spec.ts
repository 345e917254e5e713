// The outcome where people look first, in a real browser against `aga-swarm serve`: the swarm list shows a
// completed swarm's report and a failed one's reason, and how many questions wait on the person; the swarm
// header shows the outcome too.
import type { Page } from '@playwright/test';
import { expect, expectAccessible, signUp, snap, test, uniqueName } from './fixtures';

const PASSWORD = 'correct horse battery';

async function createAndSpawn(page: Page, name: string, goal: string) {
  await page.getByLabel('Name (optional)').fill(name);
  await page.getByLabel('Goal').fill(goal);
  await page.getByRole('button', { name: 'Create swarm' }).click();
  const card = page.getByTestId('swarm-card').filter({ hasText: name });
  await card.getByRole('button', { name: 'Spawn' }).click();
  await expect(card.getByTestId('status-badge')).not.toHaveText(/Draft/);
  return card;
}

test('the list and the header show the outcome of completed and failed swarms, and what waits on you', async ({ page }) => {
  test.setTimeout(240_000);
  await signUp(page, uniqueName('olga'), PASSWORD);
  const done = await createAndSpawn(page, 'Sea haiku', 'Write a haiku about the sea');
  // an empty plan cannot be done: re-planned up to the limit, then the swarm fails with a reason
  const failed = await createAndSpawn(page, 'Empty plan', 'Write a haiku\nPlan: ;');
  const asking = await createAndSpawn(page, 'Two questions', 'Ask me which colour the poster uses\nAsk me which size (after)');

  // The list follows the swarms as they finish or wait (a reload is the fallback a person would use).
  const eventually = async (check: () => Promise<void>) => {
    await expect(async () => {
      try {
        await check();
      } catch (e) {
        await page.reload();
        throw e;
      }
    }).toPass({ timeout: 120_000, intervals: [2_000, 5_000] });
  };
  await eventually(async () => {
    await expect(done.getByTestId('status-badge')).toHaveText(/Completed/, { timeout: 5_000 });
    await expect(failed.getByTestId('status-badge')).toHaveText(/Failed/, { timeout: 5_000 });
    await expect(asking.getByTestId('waiting-count')).toHaveText('2 questions wait on you', { timeout: 5_000 });
  });
  await expect(done.getByTestId('swarm-outcome')).toContainText('Outcome: Done: "Write a haiku about the sea"');
  await expect(failed.getByTestId('swarm-outcome')).toContainText(/Failed: .*re-plan limit/);
  await expect(done.getByTestId('waiting-count')).toHaveCount(0);
  await expect(asking.getByTestId('swarm-outcome')).toHaveCount(0);
  await snap(page, 'list-outcomes');
  await expectAccessible(page, 'swarm list with outcomes');

  // The header of the completed swarm: the outcome, opened to the whole report.
  await done.getByRole('link', { name: 'Open chats of Sea haiku' }).click();
  const head = page.locator('.swarm-head');
  const outcome = head.getByTestId('swarm-outcome');
  await expect(outcome).toContainText('Outcome: Done: "Write a haiku about the sea"');
  await outcome.locator('summary').click();
  await expect(outcome.locator('.outcome-body')).toContainText('Done: "Write a haiku about the sea"');
  await snap(page, 'header-outcome');
  await expectAccessible(page, 'swarm header with outcome');

  // The failed swarm's header gives the reason.
  await page.getByRole('link', { name: 'All swarms' }).click();
  await failed.getByRole('link', { name: 'Open chats of Empty plan' }).click();
  await expect(page.locator('.swarm-head .failure')).toContainText(/re-plan limit/);

  // Answer one question: the list counts one left.
  await page.getByRole('link', { name: 'All swarms' }).click();
  await asking.getByTestId('waiting-count').getByRole('link').click();
  await expect(page).toHaveURL(/\/chat/);
  await page.getByTestId('chat-item').filter({ hasText: 'which colour' }).click();
  await page.getByLabel('Your reply').fill('Blue, like the sea at noon.');
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  await expect(page.getByRole('log', { name: 'Messages' })).toContainText('Blue, like the sea at noon.');
  await page.getByRole('link', { name: 'All swarms' }).click();
  await eventually(async () => {
    await expect(asking.getByTestId('waiting-count')).toHaveText('1 question waits on you', { timeout: 5_000 });
  });
});

test('a long outcome stays one line in the header, cut with an ellipsis: the swarm page does not scroll sideways', async ({ page }) => {
  await signUp(page, uniqueName('wide'), PASSWORD);
  const long = 'Write a very long note about everything there is to know about the sea, the sky and the mountains';
  const card = await createAndSpawn(page, 'Long report', `${long}\n${long.replace('sea', 'rivers')}`);
  await card.getByRole('link', { name: 'Open tree of Long report' }).click();
  const outcome = page.locator('.swarm-head').getByTestId('swarm-outcome');
  await expect(outcome).toContainText('Outcome: Done:', { timeout: 60_000 });
  const widths = await page.evaluate(() => {
    const main = document.querySelector('main')!;
    const head = document.querySelector('.swarm-head')!.getBoundingClientRect();
    const summary = document.querySelector('.swarm-outcome summary')!;
    return { main: [main.scrollWidth, main.clientWidth], head: head.right, summary: summary.getBoundingClientRect().right,
      clipped: summary.scrollWidth > summary.clientWidth };
  });
  expect(widths.main[0], 'the swarm page scrolls sideways').toBeLessThanOrEqual(widths.main[1]!);
  expect(widths.summary).toBeLessThanOrEqual(widths.head);
  expect(widths.clipped).toBe(true); // the line is longer than the header: cut (with an ellipsis), not wrapped
});
