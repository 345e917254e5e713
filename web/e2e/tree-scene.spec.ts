// The tree's pan path at 5,000 nodes, in Chromium on the app's /__bench page (synthetic trees through the real
// store and renderer): with the whole tree on screen, a pan copies one bitmap of the tree instead of drawing
// every glyph again, and that copy matches drawing the view directly; a change (a selection) is drawn anew.
import { expect, test } from './fixtures';

test('panning a whole 5,000-node tree copies one bitmap of it, which matches drawing it directly', async ({ page }) => {
  await page.goto('/__bench');
  await page.waitForFunction(() => window.__benchReady === true);
  expect((await page.evaluate(() => window.__bench!.tree(5000))).nodes).toBe(5000);

  const check = await page.evaluate(() => window.__bench!.sceneCheck());
  expect(check.cached, 'frames are copies of the bitmap').toBe(true);
  // antialiasing may round an edge pixel one step apart; anything drawn in the wrong place differs by far more
  expect(check.maxDelta, `${check.differing} of ${check.pixels} pixels differ`).toBeLessThanOrEqual(2);
  expect(check.afterSelect.firstCached, 'a selection is drawn anew, not copied from the old bitmap').toBe(false);
  expect(check.afterSelect.cached).toBe(true);
  expect(check.afterSelect.maxDelta).toBeLessThanOrEqual(2);

  // A drag with the mouse pans by copying the bitmap too: a pan never makes it anew.
  await page.evaluate(() => {
    window.__treeDebug!.renderer.draw();
    window.__treeDebug!.renderer.draw();
  });
  expect(await page.evaluate(() => window.__treeDebug!.renderer.cached)).toBe(true);
  const canvas = page.getByTestId('tree-canvas');
  const box = (await canvas.boundingBox())!;
  const before = await page.evaluate(() => ({ ...window.__treeDebug!.camera() }));
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  for (let k = 1; k <= 10; k++) await page.mouse.move(box.x + box.width / 2 + 6 * k, box.y + box.height / 2 + 2 * k);
  await page.mouse.up();
  await expect.poll(() => page.evaluate(() => window.__treeDebug!.camera().ox)).toBe(before.ox + 60);
  expect(await page.evaluate(() => window.__treeDebug!.renderer.cached)).toBe(true);
});
