import { open, signUp, shot } from './qa-walk-lib.mjs';
const { browser, page, errors } = await open();
try {
  await signUp(page, 'walk' + Date.now().toString(36));
  await shot(page, '01-swarms');
  await page.getByLabel('Name (optional)').fill('Haiku deps');
  await page.getByLabel('Goal').fill('Ask the user for their favourite colour\nWrite a haiku about it\nWrite a note (after 1)');
  await page.getByRole('button', { name: 'Create swarm' }).click();
  const card = page.getByTestId('swarm-card').filter({ hasText: 'Haiku deps' });
  await card.getByRole('button', { name: 'Spawn' }).click();
  await card.getByRole('link', { name: 'Open tree of Haiku deps' }).click();
  await page.getByTestId('tree-canvas').waitFor();
  await page.waitForTimeout(4000);
  await shot(page, '02-tree-deps');
  console.log(page.url());
  console.log(await page.getByTestId('tree-summary').innerText());
} finally { console.log('ERRORS', errors); await browser.close(); }
