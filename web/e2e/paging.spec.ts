// The swarms page loads the list a page at a time (50 by default) and shows only the beginning of long goals.
import { expect, signUp, test, uniqueName } from './fixtures';

test('the swarm list pages: 50 first, the rest on "Load more swarms"', async ({ page }) => {
  await signUp(page, uniqueName('pager'), 'a long enough password');
  const long = 'Plan the move. ' + 'Then pack everything carefully. '.repeat(40);
  for (let i = 0; i < 55; i++) {
    const r = await page.request.post('/api/swarms', { data: { goal: `Swarm number ${i}. ${i === 54 ? long : ''}`, name: `Swarm ${i}` } });
    expect(r.status()).toBe(201);
  }
  await page.reload();
  const cards = page.getByTestId('swarm-card');
  await expect(cards).toHaveCount(50);
  await expect(cards.first().getByRole('heading', { name: 'Swarm 54' })).toBeVisible();
  // The newest goal is long: its card shows the beginning and an ellipsis, not all of it.
  const shown = (await cards.first().locator('.goal').textContent()) ?? '';
  expect(shown.endsWith('…')).toBe(true);
  expect(shown.length).toBeLessThan(long.length);
  await page.getByRole('button', { name: 'Load more swarms' }).click();
  await expect(cards).toHaveCount(55);
  await expect(cards.last().getByRole('heading', { name: 'Swarm 0' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Load more swarms' })).toHaveCount(0);
  // Editing a long goal starts from the whole goal, fetched for the purpose.
  await cards.first().getByRole('button', { name: 'Edit goal' }).click();
  await expect(cards.first().getByLabel('Goal of Swarm 54')).toHaveValue(`Swarm number 54. ${long}`.trim());
});
