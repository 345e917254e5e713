import { chromium } from '@playwright/test';
export const BASE = 'http://127.0.0.1:8131';
export async function open() {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless','--no-sandbox','--disable-gpu'] });
  const page = await browser.newPage({ baseURL: BASE, viewport: { width: 1280, height: 800 } });
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push('PAGEERROR ' + e.message));
  page.on('response', (r) => { if (r.status() >= 500) errors.push(`HTTP ${r.status()} ${r.url()}`); });
  return { browser, page, errors };
}
export async function signUp(page, username, password = 'correct horse battery') {
  await page.goto('/signup');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.getByRole('heading', { name: 'Swarms', level: 1 }).waitFor();
}
export async function shot(page, name) { await page.screenshot({ path: `/tmp/qa-walk/${name}.png`, fullPage: false }); }
