import AxeBuilder from '@axe-core/playwright';
import { test as base, expect, type Page } from '@playwright/test';
import { basename, join } from 'node:path';

export const test = base.extend<{ cspViolations: string[] }>({
  // The server's address is only known after the global setup started it.
  baseURL: async ({}, use) => {
    const url = process.env.AGA_E2E_BASE_URL;
    if (!url) throw new Error('AGA_E2E_BASE_URL is not set: the global setup did not start the server');
    await use(url);
  },
  // The server sends a Content-Security-Policy without inline script; whatever the app does under it must
  // not be refused by the browser (Chromium reports each refusal as a console error).
  cspViolations: [
    async ({ page }, use) => {
      const violations: string[] = [];
      page.on('console', (msg) => {
        if (msg.type() === 'error' && /Content Security Policy/i.test(msg.text())) violations.push(msg.text());
      });
      await use(violations);
      expect(violations, 'Content-Security-Policy violations').toEqual([]);
    },
    { auto: true },
  ],
});
export { expect };

const shots = new Map<string, number>();
/** A numbered screenshot in test-artifacts/e2e/, named after the spec file and the step. */
export async function snap(page: Page, name: string): Promise<void> {
  const spec = basename(base.info().file).replace(/\.spec\.ts$/, '');
  const n = (shots.get(spec) ?? 0) + 1;
  shots.set(spec, n);
  const dir = process.env.AGA_E2E_ARTIFACTS ?? 'test-results';
  await page.screenshot({ path: join(dir, `${spec}-${String(n).padStart(2, '0')}-${name}.png`), fullPage: true });
}

/** No serious or critical accessibility violations on the page as it is now. */
export async function expectAccessible(page: Page, what: string): Promise<void> {
  const result = await new AxeBuilder({ page }).analyze();
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const report = bad.map((v) => `${v.impact} ${v.id}: ${v.help}\n  ${v.nodes.map((n) => n.target.join(' ')).slice(0, 5).join('\n  ')}`);
  expect(report, `axe on ${what}`).toEqual([]);
}

export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
}

export async function signUp(page: Page, username: string, password: string): Promise<void> {
  await page.goto('/signup');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await expect(page.getByRole('heading', { name: 'Swarms', level: 1 })).toBeVisible();
}

export async function logIn(page: Page, username: string, password: string): Promise<void> {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
}

/** A node's lifecycle as the tree view draws it now (null while the node is not in the drawn tree). */
export function lifecycleOf(page: Page, id: string): Promise<string | null> {
  return page.evaluate((id) => {
    const L = window.__treeDebug?.renderer.layout;
    const i = L?.index.get(id);
    return L && i !== undefined ? L.refs[i]!.lifecycle : null;
  }, id);
}

/** The ids among `ids` whose glyph (a 16 px square around its centre) the open legend covers. */
export async function behindLegend(page: Page, ids: string[]): Promise<string[]> {
  const legend = await page.getByLabel('Legend', { exact: true }).boundingBox();
  if (!legend) return [];
  const out: string[] = [];
  for (const id of ids) {
    const p = await page.evaluate((id) => window.__treeDebug!.nodePosition(id), id);
    if (!p) continue;
    const g = 16;
    if (p.x + g > legend.x && p.x - g < legend.x + legend.width && p.y + g > legend.y && p.y - g < legend.y + legend.height) out.push(id);
  }
  return out;
}
