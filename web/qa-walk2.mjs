import { open, signUp, shot } from './qa-walk-lib.mjs';
const { browser, page, errors } = await open();
try {
  await signUp(page, 'walk' + Date.now().toString(36));
  await page.getByLabel('Name (optional)').fill('Haiku deps');
  await page.getByLabel('Goal').fill('Ask the user for their favourite colour\nWrite a haiku about it\nWrite a note (after 1)');
  await page.getByRole('button', { name: 'Create swarm' }).click();
  const card = page.getByTestId('swarm-card').filter({ hasText: 'Haiku deps' });
  await card.getByRole('button', { name: 'Spawn' }).click();
  await card.getByRole('link', { name: 'Open tree of Haiku deps' }).click();
  await page.getByTestId('tree-canvas').waitFor();
  await page.waitForTimeout(3000);
  console.log('legend pressed:', await page.getByRole('button', { name: 'Legend' }).getAttribute('aria-pressed'));
  await page.getByRole('button', { name: 'Legend' }).click();
  await page.waitForTimeout(500);
  await shot(page, '03-tree-nolegend');
  await page.getByRole('button', { name: 'Fit' }).click();
  await page.waitForTimeout(800);
  await shot(page, '04-tree-fit');
  await page.getByRole('button', { name: 'Legend' }).click();
  await page.waitForTimeout(500);
  await shot(page, '05-tree-fit-legend');
} finally { console.log('ERRORS', errors); await browser.close(); }
