// Dependency edges in the tree: the haiku subtask needs the question, so it waits (waiting_deps, its own colour)
// until the person answers, a dashed edge links the two siblings on the canvas, and the slider shows it again.
import type { Page } from '@playwright/test';
import { behindLegend, expect, lifecycleOf, signUp, test, uniqueName } from './fixtures';

const GOAL = 'Ask the user for their favourite colour\nWrite a haiku about it';

/** Pixels of the dependency edge's pink (#db2777, blended with the background by anti-aliasing) in a band around
 * the straight line between two points of the canvas, in CSS px relative to the page. */
async function pinkPixelsBetween(page: Page, a: { x: number; y: number }, b: { x: number; y: number }): Promise<number> {
  return page.evaluate(
    ([a, b]) => {
      const canvas = document.querySelector<HTMLCanvasElement>('[data-testid="tree-canvas"] canvas, canvas[data-testid="tree-canvas"]')!;
      const rect = canvas.getBoundingClientRect();
      const sx = canvas.width / rect.width;
      const sy = canvas.height / rect.height;
      const x0 = Math.floor((Math.min(a!.x, b!.x) - rect.left) * sx);
      const x1 = Math.ceil((Math.max(a!.x, b!.x) - rect.left) * sx);
      const y0 = Math.floor((Math.min(a!.y, b!.y) - rect.top - 60) * sy);
      const y1 = Math.ceil((Math.max(a!.y, b!.y) - rect.top + 10) * sy);
      const img = canvas.getContext('2d')!.getImageData(Math.max(0, x0), Math.max(0, y0), Math.max(1, x1 - x0), Math.max(1, y1 - y0));
      let n = 0;
      for (let i = 0; i < img.data.length; i += 4) {
        const [r, g, bl] = [img.data[i]!, img.data[i + 1]!, img.data[i + 2]!];
        if (r - g > 60 && bl - g > 30 && r > bl) n++;
      }
      return n;
    },
    [a, b],
  );
}

test('a subtask that needs another waits for it, a dashed dependency edge links them, and the history slider replays both', async ({ page }) => {
  await signUp(page, uniqueName('deps'), 'correct horse battery');
  await page.getByLabel('Name (optional)').fill('Haiku after the colour');
  await page.getByLabel('Goal').fill(GOAL);
  await page.getByRole('button', { name: 'Create swarm' }).click();
  const card = page.getByTestId('swarm-card').filter({ hasText: 'Haiku after the colour' });
  await card.getByRole('button', { name: 'Spawn' }).click();
  await card.getByRole('link', { name: 'Open tree of Haiku after the colour' }).click();
  await expect(page.getByTestId('tree-canvas')).toBeVisible();

  // the question is open: the haiku waits for it, and the tree draws the edge between them
  await expect.poll(() => page.evaluate(() => window.__treeDebug?.dependencyEdges() ?? []), { timeout: 20_000 }).toEqual([['n.1', 'n.2']]);
  await expect(page.getByTestId('legend-dependency')).toContainText('Needs');
  // the legend starts open over the canvas's lower left: no glyph of a small tree is behind it (the view put the
  // tree's middle at the canvas's middle, and the children's glyphs under the legend's top edge)
  expect(await behindLegend(page, ['n', 'n.1', 'n.2'])).toEqual([]);
  const waitingColour = await page.evaluate(() => {
    const d = window.__treeDebug!;
    const p = d.nodePosition('n.2')!;
    const canvas = document.querySelector<HTMLCanvasElement>('[data-testid="tree-canvas"] canvas, canvas[data-testid="tree-canvas"]')!;
    const rect = canvas.getBoundingClientRect();
    const px = canvas.getContext('2d')!.getImageData(Math.round((p.x - rect.left) * (canvas.width / rect.width)), Math.round((p.y - rect.top) * (canvas.height / rect.height)), 1, 1).data;
    return [px[0], px[1], px[2]];
  });
  expect(waitingColour).toEqual([0xa1, 0x62, 0x07]); // waiting_deps has its own colour
  const a = (await page.evaluate(() => window.__treeDebug!.nodePosition('n.1')))!;
  const b = (await page.evaluate(() => window.__treeDebug!.nodePosition('n.2')))!;
  expect(await pinkPixelsBetween(page, a, b)).toBeGreaterThan(10);
  // the node panel says what the waiting node needs
  await page.mouse.click(b.x, b.y);
  await expect(page.getByTestId('node-panel')).toContainText('Waiting on the subtasks it needs');
  await expect(page.getByTestId('node-needs')).toHaveText('n.1');

  // answer: the haiku runs, and reports the colour it was given
  await page.getByRole('navigation', { name: 'Swarm views' }).getByRole('link', { name: 'Chat' }).click();
  await page.getByRole('region', { name: 'Waiting on you' }).getByTestId('chat-item').click();
  await page.getByLabel('Your reply').fill('blue');
  await page.getByLabel('Your reply').press('Enter');
  await page.getByRole('navigation', { name: 'Swarm views' }).getByRole('link', { name: 'Tree' }).click();
  await expect.poll(() => lifecycleOf(page, 'n'), { timeout: 30_000 }).toBe('done');
  expect(await lifecycleOf(page, 'n.2')).toBe('done');

  // the history slider replays both: at an earlier event the haiku waits again, and the edge is drawn
  const slider = page.getByRole('slider', { name: 'History position' });
  await slider.focus();
  await slider.press('Home');
  let found = false;
  for (let k = 0; k < 80 && !found; k++) {
    await slider.press('ArrowRight');
    found = (await lifecycleOf(page, 'n.2')) === 'waiting_deps';
  }
  expect(found).toBe(true);
  await expect(page.getByTestId('tree-summary')).toContainText('At event');
  expect(await page.evaluate(() => window.__treeDebug!.dependencyEdges())).toEqual([['n.1', 'n.2']]);
});
