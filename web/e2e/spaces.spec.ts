// The action space and memory space views: a scripted swarm writes two files through memory.write; the Actions
// tab shows that tool with its schema, policy and the nodes that ran it (each a jump into the tree); the Memory
// tab previews Markdown rendered and code highlighted, names the writer node, takes an image upload and shows
// it, and follows the history slider back to a point before any file.
import { expect, expectAccessible, signUp, snap, test, uniqueName } from './fixtures';

const GOAL = ['Tool: memory.write notes/plan.md The **plan** is set', 'Tool: memory.write code/hello.py print("hi")'].join('\n');
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);

test('the action space and the memory space: tools, nodes, previews, upload and the slider', async ({ page }) => {
  await signUp(page, uniqueName('spaces'), 'correct horse battery');
  await page.getByLabel('Name (optional)').fill('Two files');
  await page.getByLabel('Goal').fill(GOAL);
  await page.getByRole('button', { name: 'Create swarm' }).click();
  const card = page.getByTestId('swarm-card').filter({ hasText: 'Two files' });
  await card.getByRole('button', { name: 'Spawn' }).click();
  await card.getByRole('link', { name: 'Open tree of Two files' }).click();
  await expect(page.getByTestId('tree-summary')).toContainText('done', { timeout: 30_000 });

  // ---- the action space ----
  await page.getByRole('navigation', { name: 'Swarm views' }).getByRole('link', { name: 'Actions' }).click();
  const write = page.locator('[data-testid="action-item"][data-action="memory.write"]');
  await expect(write).toContainText('2');
  await write.click();
  const detail = page.getByTestId('action-detail');
  await expect(detail.getByTestId('action-approval')).toHaveText('Runs without asking');
  await expect(detail.getByTestId('input-schema')).toContainText('path');
  await expect(detail.getByTestId('input-schema')).toContainText('content');
  await expect(detail.getByTestId('action-node-count')).toHaveText('2 nodes ran this action');
  await expect(page.locator('[data-testid="action-item"][data-action="plan"]')).toContainText('1');
  await expectAccessible(page, 'the action space');
  await snap(page, 'actions');
  await detail.getByTestId('action-node').first().click();
  await expect(page).toHaveURL(/\/tree\?node=n\.1$/);
  await expect(page.getByTestId('node-panel')).toContainText('memory.write');

  // ---- the memory space ----
  await page.getByRole('navigation', { name: 'Swarm views' }).getByRole('link', { name: 'Memory' }).click();
  await expect(page.getByTestId('memory-count')).toHaveText('2 files');
  await page.locator('[data-testid="memory-file"][data-path="notes/plan.md"]').click();
  const body = page.getByTestId('file-body');
  await expect(body.locator('strong')).toHaveText('plan');
  await expect(page.getByTestId('file-writer').getByTestId('writer-link')).toBeVisible();
  await page.locator('[data-testid="memory-file"][data-path="code/hello.py"]').click();
  await expect(body).toHaveAttribute('data-kind', 'code');
  await expect(body.locator('code.hljs, code.language-python').first()).toBeVisible();
  await expect(body.locator('.hljs-built_in, .hljs-string').first()).toBeVisible();
  await expect(page.getByRole('link', { name: 'Download' })).toHaveAttribute('href', /code\/hello\.py\?at=\d+&download=true$/);

  // an image upload lands in uploads/ and shows
  await page.getByTestId('memory-upload-input').setInputFiles({ name: 'pic.png', mimeType: 'image/png', buffer: PNG });
  await expect(page.getByTestId('memory-count')).toHaveText('3 files');
  const img = page.getByTestId('file-image');
  await expect(img).toBeVisible();
  await expect.poll(() => img.evaluate((el) => (el as HTMLImageElement).naturalWidth)).toBe(1);
  await expectAccessible(page, 'the memory space');
  await snap(page, 'memory');

  // an upload the allowlist refuses says why
  await page.getByTestId('memory-upload-input').setInputFiles({ name: 'page.html', mimeType: 'text/html', buffer: Buffer.from('<html></html>') });
  await expect(page.getByRole('alert')).toContainText('not accepted');

  // the writer link jumps to the node in the tree
  await page.locator('[data-testid="memory-file"][data-path="notes/plan.md"]').click();
  await page.getByTestId('writer-link').click();
  await expect(page).toHaveURL(/\/tree\?node=n\.\d+$/);

  // the slider: at the first event there are no files; the memory page follows it
  await page.getByRole('navigation', { name: 'Swarm views' }).getByRole('link', { name: 'Memory' }).click();
  const slider = page.getByLabel('History position');
  await slider.focus();
  await page.keyboard.press('Home');
  await expect(page.getByTestId('history-mark')).toBeVisible();
  await expect(page.getByTestId('memory-count')).toContainText('0 files as of event');
  await page.getByRole('button', { name: 'Back to live' }).click();
  await expect(page.getByTestId('memory-count')).toHaveText('3 files');
});
