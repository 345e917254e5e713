// Attachments in the chat, in Chromium against `aga-swarm serve` with the scripted model: at phone width, a reply
// carries an image (picked with the Attach files button) and a text file (dropped on the composer); the chat shows
// the image as a thumbnail that loads and the text file as a chip with its download link; the node received both
// (the scripted model names them in what it learned); both are in the Memory tab under uploads/; a refused type
// says why and sends nothing.
import { expect, expectAccessible, signUp, snap, test, uniqueName } from './fixtures';

const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);

test('a reply with an image and a text file: thumbnail, chip, download, the node and the Memory tab', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await signUp(page, uniqueName('attach'), 'correct horse battery');
  const origin = new URL(page.url()).origin;
  const r = await page.request.post('/api/swarms', { data: { goal: 'Ask the user for a sketch of the logo', name: 'Logo' }, headers: { Origin: origin } });
  expect(r.status()).toBe(201);
  const swarmId = ((await r.json()) as { id: string }).id;
  expect((await page.request.post(`/api/swarms/${swarmId}/spawn`, { headers: { Origin: origin } })).status()).toBe(200);
  await page.goto(`/swarms/${swarmId}/chat/chat-n.1`);
  const chat = page.getByRole('region', { name: /^Chat: / });
  await expect(chat.getByTestId('message').first()).toContainText('I need your input', { timeout: 30_000 });

  // a refused type: the message stays, failed, with the server's reason
  const input = page.getByTestId('attach-input');
  await input.setInputFiles({ name: 'page.html', mimeType: 'text/html', buffer: Buffer.from('<html><script>1</script></html>') });
  await expect(page.getByTestId('picked-file')).toHaveCount(1);
  await page.getByRole('button', { name: 'Send' }).click();
  const failed = page.getByTestId('pending-message');
  await expect(failed).toHaveAttribute('data-status', 'failed');
  await expect(failed.getByRole('alert')).toContainText('not accepted');
  await failed.getByRole('button', { name: 'Discard' }).click();

  // the image through the button, the text file dropped on the composer
  await input.setInputFiles({ name: 'logo.png', mimeType: 'image/png', buffer: PNG });
  const drop = await page.evaluateHandle(() => {
    const dt = new DataTransfer();
    dt.items.add(new File(['Round, blue, with a wave\nsecond idea'], 'ideas.md', { type: 'text/markdown' }));
    return dt;
  });
  await page.getByTestId('composer').dispatchEvent('drop', { dataTransfer: drop });
  await expect(page.getByTestId('picked-file')).toHaveCount(2);
  await page.getByLabel('Your reply').fill('Here is my sketch and some notes');
  await page.getByRole('button', { name: 'Send' }).click();

  const mine = chat.getByTestId('message').filter({ hasText: 'Here is my sketch' });
  const thumb = mine.getByRole('img', { name: 'logo.png' });
  await expect(thumb).toBeVisible();
  await expect.poll(() => thumb.evaluate((el) => (el as HTMLImageElement).naturalWidth)).toBe(1);
  const chip = mine.getByRole('link', { name: 'Download ideas.md' });
  await expect(chip).toHaveAttribute('href', /\/memory\/uploads\/ideas\.md\?at=\d+&download=true$/);
  const download = await page.request.get((await chip.getAttribute('href'))!);
  expect(download.headers()['content-disposition']).toMatch(/^attachment; filename="ideas.md"/);
  expect(await download.text()).toBe('Round, blue, with a wave\nsecond idea');
  // fits the phone's width
  const box = await mine.boundingBox();
  expect(box && box.x + box.width).toBeLessThanOrEqual(390);
  await expectAccessible(page, 'a chat with attachments');
  await snap(page, 'attachments-chat');

  // the node received both: the scripted model names them in what it learned (the chat's closing turn)
  await expect(chat.getByTestId('message').last()).toContainText('Thank you', { timeout: 30_000 });
  const node = await (await page.request.get(`/api/swarms/${swarmId}/nodes/n.1`)).json() as { node: { report: string } };
  expect(node.node.report).toContain('uploads/ideas.md "Round, blue, with a wave"');
  expect(node.node.report).toContain('uploads/logo.png image/png');

  // the Memory tab has both under uploads/, written by the person
  await page.goto(`/swarms/${swarmId}/memory`);
  await expect(page.locator('[data-testid="memory-file"][data-path="uploads/logo.png"]')).toBeVisible();
  await page.locator('[data-testid="memory-file"][data-path="uploads/ideas.md"]').click();
  await expect(page.getByTestId('file-body')).toContainText('Round, blue, with a wave');
});

test("a new swarm's goal with a file: the root and its subtask receive it, and it is in the Memory tab", async ({ page }) => {
  await signUp(page, uniqueName('goalfile'), 'correct horse battery');
  await page.getByLabel('Name (optional)').fill('Brief');
  await page.getByLabel('Goal').fill('Summarise the brief');
  await page.getByTestId('goal-files').setInputFiles({ name: 'brief.md', mimeType: 'text/markdown', buffer: Buffer.from('Harbour fair poster\nblue and gold') });
  await expect(page.getByTestId('picked-file')).toContainText('brief.md');
  await page.getByRole('button', { name: 'Create swarm' }).click();
  const card = page.getByTestId('swarm-card').filter({ hasText: 'Brief' });
  await card.getByRole('button', { name: 'Spawn' }).click();
  await card.getByRole('link', { name: 'Open tree of Brief' }).click();
  await expect(page.getByTestId('tree-summary')).toContainText('done', { timeout: 30_000 });
  const swarmId = new URL(page.url()).pathname.split('/')[2]!;
  const node = (await (await page.request.get(`/api/swarms/${swarmId}/nodes/n.1`)).json()) as { node: { report: string } };
  expect(node.node.report).toContain('uploads/brief.md "Harbour fair poster"');
  await page.getByRole('navigation', { name: 'Swarm views' }).getByRole('link', { name: 'Memory' }).click();
  await page.locator('[data-testid="memory-file"][data-path="uploads/brief.md"]').click();
  await expect(page.getByTestId('file-body')).toContainText('blue and gold');
});
