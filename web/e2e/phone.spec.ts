// A phone (390 x 844, touch) against `aga-swarm serve`: the tree page fits the screen, its canvas, node panel and
// history slider all in view at once, none overlapping another, no sideways scroll, touch targets of 44 px; and
// the chat fits the width. On a phone the node panel and the slider used to fall below the fold, and the swarm
// header pushed the page 24 px wider than the screen.
import type { Locator, Page } from '@playwright/test';
import { expect, expectAccessible, signUp, snap, test, uniqueName } from './fixtures';

const PASSWORD = 'a long enough password';
const W = 390;
const H = 844;
const TOUCH = 44;

test.use({ viewport: { width: W, height: H }, hasTouch: true, isMobile: true });

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

async function box(loc: Locator, what: string): Promise<Box> {
  const b = await loc.boundingBox();
  expect(b, `${what} is laid out`).not.toBeNull();
  return b!;
}

function inside(b: Box, what: string): void {
  expect(b.x, `${what}: left edge on screen`).toBeGreaterThanOrEqual(-0.5);
  expect(b.y, `${what}: top edge on screen`).toBeGreaterThanOrEqual(-0.5);
  expect(b.x + b.width, `${what}: right edge on screen`).toBeLessThanOrEqual(W + 0.5);
  expect(b.y + b.height, `${what}: bottom edge on screen`).toBeLessThanOrEqual(H + 0.5);
}

function apart(a: Box, b: Box, what: string): void {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  expect(w > 0.5 && h > 0.5, `${what} overlap`).toBe(false);
}

/** The document is no wider than the screen (no sideways scroll), and, with `noScroll`, no taller either. */
async function fitsScreen(page: Page, noScroll: boolean): Promise<void> {
  const d = await page.evaluate(() => ({
    sw: document.documentElement.scrollWidth,
    sh: document.documentElement.scrollHeight,
    iw: window.innerWidth,
  }));
  expect(d.iw, 'the layout viewport stays the screen width').toBe(W);
  expect(d.sw, 'no sideways scroll').toBeLessThanOrEqual(W);
  if (noScroll) expect(d.sh, 'the tree page needs no scrolling').toBeLessThanOrEqual(H);
}

/** Every visible control in `scope` is at least 44 x 44 px (text fields: 44 px high). */
async function touchTargets(scope: Locator, what: string): Promise<void> {
  const sizes = await scope.evaluate((root) =>
    Array.from(root.querySelectorAll<HTMLElement>('button, select, input, .tabs a'))
      .filter((el) => el.offsetParent !== null && !el.classList.contains('link-button'))
      .map((el) => {
        const r = el.getBoundingClientRect();
        const field = el instanceof HTMLInputElement && el.type !== 'range' && el.type !== 'checkbox';
        return { name: el.getAttribute('aria-label') ?? el.textContent?.trim() ?? el.tagName, w: r.width, h: r.height, field };
      }),
  );
  expect(sizes.length, `${what} has controls`).toBeGreaterThan(0);
  const small = sizes.filter((s) => s.h < TOUCH - 0.5 || (!s.field && s.w < TOUCH - 0.5));
  expect(small, `${what}: controls under ${TOUCH} px`).toEqual([]);
}

/** The tree page's regions: each on screen, none over another. */
async function treeFits(page: Page, what: string, withPanel: boolean): Promise<void> {
  await fitsScreen(page, true);
  const regions: Array<[string, Box]> = [
    ['swarm header', await box(page.locator('.swarm-head'), 'swarm header')],
    ['tree toolbar', await box(page.getByRole('toolbar', { name: 'Tree view' }), 'tree toolbar')],
    ['tree canvas', await box(page.getByTestId('tree-canvas'), 'tree canvas')],
    ['side panel', await box(page.locator('.tree-side'), 'side panel')],
    ['history bar', await box(page.getByRole('group', { name: 'History' }), 'history bar')],
  ];
  for (const [name, b] of regions) inside(b, `${what}: ${name}`);
  for (let i = 0; i < regions.length; i++) {
    for (let j = i + 1; j < regions.length; j++) apart(regions[i]![1], regions[j]![1], `${what}: ${regions[i]![0]} and ${regions[j]![0]}`);
  }
  expect(regions[2]![1].height, `${what}: the canvas keeps room to see the tree`).toBeGreaterThanOrEqual(150);
  inside(await box(page.getByRole('slider', { name: 'History position' }), 'slider'), `${what}: the slider`);
  if (withPanel) {
    inside(await box(page.getByRole('button', { name: 'Close node details' }), 'close'), `${what}: Close node details`);
    expect(regions[3]![1].height, `${what}: the node panel shows more than its title`).toBeGreaterThanOrEqual(200);
  }
  await touchTargets(page.locator('.app-header'), `${what}: app header`);
  await touchTargets(page.locator('.swarm-head'), `${what}: swarm header`);
  await touchTargets(page.locator('.tree-page'), `${what}: tree page`);
}

test('on a phone the tree, its node panel and the history slider share the screen; the chat fits its width', async ({ page }) => {
  await signUp(page, uniqueName('pia'), PASSWORD);
  await page.getByLabel('Name (optional)').fill('A phone swarm with a name long enough to need cutting short');
  await page.getByLabel('Goal').fill('Ask me my favourite colour\nPlan: Buy paint; Paint the wall; Clean the brushes');
  await page.getByRole('button', { name: 'Create swarm' }).click();
  await fitsScreen(page, false);
  const card = page.getByTestId('swarm-card').first();
  await card.getByRole('button', { name: 'Spawn' }).click();
  await card.getByRole('link', { name: /Open tree of/ }).click();
  const canvas = page.getByTestId('tree-canvas');
  await expect(canvas).toBeVisible();
  await expect.poll(() => page.evaluate(() => window.__treeDebug?.nodeCount() ?? 0)).toBeGreaterThanOrEqual(3);
  await expect(page.getByRole('heading', { name: 'Chats' })).toBeVisible();

  // ---- nothing selected: the chats at this point under the canvas, the slider on screen ----
  await treeFits(page, 'tree', false);
  await snap(page, 'phone-tree');

  // ---- a tap on a glyph opens its node panel, which scrolls inside itself; everything stays on screen ----
  await page.getByRole('button', { name: 'Fit' }).tap();
  const at = await page.evaluate(() => window.__treeDebug!.nodePosition('n.2'));
  expect(at, 'n.2 is drawn').not.toBeNull();
  await page.touchscreen.tap(at!.x, at!.y);
  const panel = page.getByTestId('node-panel');
  await expect(panel).toBeVisible();
  await expect(panel.getByRole('heading', { level: 2 })).toHaveText(/Plan: Buy paint/);
  await treeFits(page, 'node panel', true);
  await snap(page, 'phone-node-panel');
  await expectAccessible(page, 'tree with a node panel (phone)');
  const side = page.locator('.tree-side');
  expect(await side.evaluate((el) => el.scrollHeight > el.clientHeight), 'the panel is longer than its place').toBe(true);
  await panel.getByRole('heading', { name: 'Developer log' }).scrollIntoViewIfNeeded();
  inside(await box(panel.getByRole('heading', { name: 'Developer log' }), 'developer log'), 'the developer log, scrolled to');
  // the panel's head stays at its top while it scrolls, so Close is always in reach
  inside(await box(page.getByRole('button', { name: 'Close node details' }), 'close'), 'Close, after scrolling');
  await fitsScreen(page, true);

  // ---- the history slider in the past: the header says so, Fork from here appears, all still on screen ----
  const slider = page.getByRole('slider', { name: 'History position' });
  await slider.focus();
  await page.keyboard.press('Home');
  await page.keyboard.press('ArrowRight');
  await expect(page.getByTestId('history-mark')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Fork from here' })).toBeVisible();
  await treeFits(page, 'history', false);
  inside(await box(page.getByRole('button', { name: 'Fork from here' }), 'fork'), 'Fork from here');
  inside(await box(page.getByRole('button', { name: 'Back to live' }), 'back'), 'Back to live');
  await snap(page, 'phone-history');
  await page.getByRole('button', { name: 'Back to live' }).tap();
  await expect(page.getByTestId('history-mark')).toHaveCount(0);
  await page.getByRole('button', { name: 'Close node details' }).tap();
  await expect(panel).toHaveCount(0);

  // ---- the chat: as wide as the screen, its controls big enough to tap ----
  await page.getByRole('navigation', { name: 'Swarm views' }).getByRole('link', { name: 'Chat' }).tap();
  await page.getByTestId('chat-item').first().tap();
  const reply = page.getByLabel('Your reply');
  await expect(reply).toBeVisible();
  await fitsScreen(page, false);
  await touchTargets(page.locator('.swarm-head'), 'chat: swarm header');
  await touchTargets(page.locator('.composer'), 'chat: composer');
  await reply.fill('Teal');
  await page.getByRole('button', { name: 'Send' }).tap();
  await expect(page.getByText('Teal', { exact: true })).toBeVisible();
  await fitsScreen(page, false);
  await snap(page, 'phone-chat');
});
