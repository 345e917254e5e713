// The chat, the swarm header and the app's failure handling, against `aga-swarm serve` with the scripted model:
// links that reload, pause/reply/resume without a reload, a Markdown bomb, a page bundle that fails to
// load, and the header in history mode.
import type { Page } from '@playwright/test';
import { expect, expectAccessible, signUp, snap, test, uniqueName } from './fixtures';

const PASSWORD = 'a long enough password';
const ASKING_GOAL = 'Ask the user for a colour\nWrite a haiku';

interface SwarmRow {
  id: string;
  name: string;
  status: string;
}
interface ChatRow {
  id: string;
  status: string;
}

/** The app's API as the logged-in page (same cookies), with the Origin a browser would send. */
function api(page: Page) {
  const origin = new URL(page.url()).origin;
  const headers = { Origin: origin };
  return {
    async post<T>(path: string, data?: unknown): Promise<T> {
      const r = await page.request.post(`/api${path}`, { data, headers });
      expect(r.status(), `POST ${path}: ${await r.text()}`).toBeLessThan(300);
      return (await r.json()) as T;
    },
    async get<T>(path: string): Promise<T> {
      const r = await page.request.get(`/api${path}`, { headers });
      expect(r.status(), `GET ${path}`).toBe(200);
      return (await r.json()) as T;
    },
  };
}

/** A new user with one spawned swarm whose first node waits on the user; returns its ids. */
async function swarmWaitingOnUser(page: Page, name: string): Promise<{ swarmId: string; chatId: string }> {
  await signUp(page, uniqueName('chat'), PASSWORD);
  const a = api(page);
  const swarm = await a.post<SwarmRow>('/swarms', { goal: ASKING_GOAL, name, config: 'local' });
  await a.post(`/swarms/${swarm.id}/spawn`);
  let chatId = '';
  await expect
    .poll(async () => {
      const chats = await a.get<ChatRow[]>(`/swarms/${swarm.id}/chats`);
      chatId = chats.find((c) => c.status === 'awaiting_user')?.id ?? '';
      return chatId;
    }, { timeout: 30_000 })
    .not.toBe('');
  return { swarmId: swarm.id, chatId };
}

test('a chat link (its id has dots) loads on a reload and when opened directly', async ({ page }) => {
  const { swarmId, chatId } = await swarmWaitingOnUser(page, 'Links');
  expect(chatId).toContain('.');
  await page.goto(`/swarms/${swarmId}/chat/${chatId}`);
  const chat = page.getByRole('region', { name: /^Chat: / });
  await expect(chat.getByTestId('message').first()).toContainText('I need your input');
  await page.reload();
  await expect(chat.getByTestId('message').first()).toContainText('I need your input');
  await expect(page.getByLabel('Your reply')).toBeVisible();
  // The tree with a dotted node selected reloads too.
  const nodeId = chatId.replace(/^chat-/, '');
  await page.goto(`/swarms/${swarmId}/tree?node=${encodeURIComponent(nodeId)}`);
  await expect(page.getByTestId('node-panel')).toBeVisible();
  await page.reload();
  await expect(page.getByTestId('node-panel')).toBeVisible();
  await snap(page, 'reloaded-tree-node');
});

test('pause, reply while paused (shown at once, held), resume: the page follows without a reload', async ({ page }) => {
  const { swarmId, chatId } = await swarmWaitingOnUser(page, 'Pause and resume');
  await page.goto(`/swarms/${swarmId}/chat/${chatId}`);
  const header = page.locator('.swarm-head');
  const badge = header.getByTestId('status-badge');
  await expect(badge).toHaveText(/Running/);
  // As a person would: the question has waited a while, so the server said the swarm is idle (socket closed).
  await expect(page.getByTestId('connection')).toContainText('Idle: waiting for your reply', { timeout: 20_000 });
  await header.getByRole('button', { name: 'Pause' }).click();
  await expect(badge).toHaveText(/Paused/);
  await expect(page.getByTestId('connection')).toContainText('Not live: paused');

  // A reply while paused shows at once, marked as held, and the chat stops waiting on the person.
  const reply = page.getByLabel('Your reply');
  await reply.fill('blue like the sea');
  await reply.press('Enter');
  const mine = page.getByTestId('message').filter({ hasText: 'blue like the sea' });
  await expect(mine).toBeVisible();
  await expect(mine).toContainText('Held until you resume');
  await expect(page.getByRole('region', { name: 'Waiting on you' })).toHaveCount(0);
  await expect(page.getByText('The swarm is paused. Your reply is held')).toBeVisible();
  await snap(page, 'reply-held-while-paused');
  await expectAccessible(page, 'chat (reply held while paused)');

  // Resume: the swarm finishes, and the page shows it (status, chat, connection, tree).
  await header.getByRole('button', { name: 'Resume' }).click();
  await expect(badge).toHaveText(/Completed/, { timeout: 30_000 });
  await expect(mine).not.toContainText('Held until you resume');
  await expect(page.getByTestId('message').filter({ hasText: 'Thank you, that is what I needed.' })).toBeVisible();
  await expect(page.getByText('This conversation is closed.')).toBeVisible();
  await expect(page.getByTestId('connection')).toContainText('Not live: finished');
  await expect(header.getByRole('button', { name: 'Resume' })).toHaveCount(0);
  await expect(page.getByRole('alert')).toHaveCount(0);
  await page.getByRole('navigation', { name: 'Swarm views' }).getByRole('link', { name: 'Tree' }).click();
  await expect(page.getByTestId('tree-summary')).toContainText(/^\d+ nodes: \d+ done\.$/);
  await snap(page, 'resumed-and-completed');
});

test('a swarm that finished behind the page: Resume shows the true status', async ({ page }) => {
  const { swarmId, chatId } = await swarmWaitingOnUser(page, 'Finished elsewhere');
  await page.goto(`/swarms/${swarmId}/chat/${chatId}`);
  const header = page.locator('.swarm-head');
  const badge = header.getByTestId('status-badge');
  await header.getByRole('button', { name: 'Pause' }).click();
  await expect(badge).toHaveText(/Paused/);
  // No live channel for this page from now on; another client answers and resumes, and the swarm ends.
  await page.route('**/socket.io/**', (route) => route.abort('connectionrefused'));
  const a = api(page);
  await a.post(`/swarms/${swarmId}/chats/${chatId}/messages`, { content: 'green like grass' });
  await a.post(`/swarms/${swarmId}/resume`);
  await expect.poll(async () => (await a.get<SwarmRow>(`/swarms/${swarmId}`)).status, { timeout: 30_000 }).toBe('completed');
  await expect(badge).toHaveText(/Paused/); // the page could not know
  await header.getByRole('button', { name: 'Resume' }).click();
  await expect(badge).toHaveText(/Completed/);
  await expect(header.getByRole('button', { name: 'Resume' })).toHaveCount(0);
  await expect(page.getByTestId('message').filter({ hasText: 'green like grass' })).toBeVisible();
  await expect(page.getByText('This conversation is closed.')).toBeVisible();
  await snap(page, 'finished-behind-the-page');
});

test('a Markdown bomb in a chat shows as plain text and the rest of the chat still works', async ({ page }) => {
  const { swarmId, chatId } = await swarmWaitingOnUser(page, 'Bomb');
  const bomb = '> '.repeat(3000) + 'a';
  await api(page).post(`/swarms/${swarmId}/chats/${chatId}/messages`, { content: bomb });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`/swarms/${swarmId}/chat/${chatId}`);
  const messages = page.getByTestId('message');
  await expect(messages.first().locator('strong')).toContainText('Ask the user for a colour');
  const bad = messages.filter({ hasText: '> > > > a' });
  await expect(bad).toHaveCount(1);
  await expect(bad.locator('.md-plain')).toBeVisible();
  // The rest of the app works: the agent's follow-up arrives, the other tab opens.
  await expect(messages.filter({ hasText: 'Thank you, that is what I needed.' })).toBeVisible({ timeout: 20_000 });
  await page.getByRole('navigation', { name: 'Swarm views' }).getByRole('link', { name: 'Tree' }).click();
  await expect(page.getByTestId('tree-canvas')).toBeVisible();
  expect(errors).toEqual([]);
  await snap(page, 'markdown-bomb');
});

test('a page whose bundle fails to load says so, and Try again loads it', async ({ page }) => {
  const { swarmId } = await swarmWaitingOnUser(page, 'Lazy');
  await page.goto(`/swarms/${swarmId}/chat`);
  await expect(page.getByRole('heading', { name: 'Lazy', level: 1 })).toBeVisible();
  // The server is briefly unreachable for the tree view's bundle (or a redeploy renamed it).
  await page.route('**/assets/TreePage-*.js', (route) => route.abort('connectionrefused'));
  await page.getByRole('navigation', { name: 'Swarm views' }).getByRole('link', { name: 'Tree' }).click();
  const failure = page.getByTestId('page-error');
  await expect(failure.getByRole('heading', { name: 'The tree view could not be loaded.' })).toBeVisible();
  await expect(failure).toContainText('The server may be unreachable, or the app was updated.');
  // Only that view failed: the header and its tabs still work.
  await expect(page.getByRole('heading', { name: 'Lazy', level: 1 })).toBeVisible();
  await snap(page, 'lazy-page-failed');
  await expectAccessible(page, 'a page that failed to load');
  await page.unroute('**/assets/TreePage-*.js');
  await failure.getByRole('button', { name: 'Try again' }).click();
  await expect(page.getByTestId('tree-canvas')).toBeVisible();
  await expect(failure).toHaveCount(0);
});

test('history mode: the header shows the status and totals as of the slider, marked, with one click back', async ({ page }) => {
  const { swarmId, chatId } = await swarmWaitingOnUser(page, 'History header');
  const a = api(page);
  await a.post(`/swarms/${swarmId}/chats/${chatId}/messages`, { content: 'purple like plums' });
  await expect.poll(async () => (await a.get<SwarmRow>(`/swarms/${swarmId}`)).status, { timeout: 30_000 }).toBe('completed');
  await page.goto(`/swarms/${swarmId}/tree`);
  const header = page.locator('.swarm-head');
  const badge = header.getByTestId('status-badge');
  const usage = header.getByLabel('Usage');
  await expect(badge).toHaveText(/Completed/);
  const liveUsage = (await usage.textContent()) ?? '';
  const liveNodes = Number(liveUsage.match(/(\d+) nodes?/)![1]);
  expect(liveNodes).toBeGreaterThan(2);

  const slider = page.getByRole('slider', { name: 'History position' });
  await slider.focus();
  await slider.press('Home');
  for (let i = 0; i < 6; i++) await slider.press('ArrowRight');
  await expect(slider).toHaveValue('6');
  const mark = header.getByTestId('history-mark');
  await expect(mark).toHaveText(/History: as of event 6 of \d+/);
  await expect(badge).toHaveText(/Running/);
  await expect.poll(async () => Number(((await usage.textContent()) ?? '').match(/(\d+) nodes?/)![1])).toBeLessThan(liveNodes);
  await expect(header.getByTestId('connection')).toHaveCount(0); // no "Live" while showing the past
  await snap(page, 'history-header');
  await expectAccessible(page, 'tree (history header)');

  await header.getByRole('button', { name: 'Back to live' }).click();
  await expect(mark).toHaveCount(0);
  await expect(badge).toHaveText(/Completed/);
  await expect(usage).toHaveText(liveUsage);
  await expect(slider).toHaveValue(await slider.getAttribute('max') ?? '');
});

test('swarm cards: the config named once, a long goal folded (no scroll box), a fork names its origin', async ({ page }) => {
  await signUp(page, uniqueName('cards'), PASSWORD);
  const config = page.getByLabel('Config');
  await expect(config.locator('option[value="local"]')).toHaveText('Local (scripted offline model)');
  const goal = Array.from({ length: 30 }, (_, i) => `Step ${i + 1}: do a rather long piece of the work, carefully`).join('\n');
  await page.getByLabel('Name (optional)').fill('Long goal');
  await page.getByLabel('Goal').fill(goal);
  await page.getByRole('button', { name: 'Create swarm' }).click();
  const card = page.getByTestId('swarm-card').filter({ hasText: 'Long goal' });
  await expect(card).toHaveCount(1);
  await expect(card.locator('.goal')).toContainText('Step 1: do a rather long piece');
  await expectAccessible(page, 'swarms (a long goal)');
  const more = card.getByRole('button', { name: 'Show the whole goal of Long goal' });
  const folded = (await card.locator('.goal').boundingBox())!.height;
  await more.click();
  await expect(card.getByRole('button', { name: 'Show less' })).toHaveAttribute('aria-expanded', 'true');
  await expect(card.locator('.goal')).toHaveText(goal);
  expect((await card.locator('.goal').boundingBox())!.height).toBeGreaterThan(folded * 3);

  // A fork names its origin (by name, as a link), not its id.
  const a = api(page);
  const origin = await a.post<SwarmRow>('/swarms', { goal: 'Write a haiku', name: 'Origin swarm', config: 'local' });
  await a.post(`/swarms/${origin.id}/spawn`);
  await expect.poll(async () => (await a.get<SwarmRow>(`/swarms/${origin.id}`)).status, { timeout: 30_000 }).toBe('completed');
  await a.post(`/swarms/${origin.id}/clone`, { at_seq: 3 });
  await page.reload();
  const fork = page.getByTestId('swarm-card').filter({ has: page.getByTestId('fork-origin') });
  await expect(fork.getByTestId('fork-origin')).toHaveText('forked at event 3 of Origin swarm');
  await expect(fork).not.toContainText(origin.id);
  await fork.getByTestId('fork-origin').getByRole('link', { name: 'Origin swarm' }).click();
  await expect(page.getByRole('heading', { name: 'Origin swarm', level: 1 })).toBeVisible();
  await snap(page, 'clone-origin-opened');
});

test('node info sits beside the messages on a wide screen; any node\'s chat opens from the list', async ({ page }) => {
  const { swarmId, chatId } = await swarmWaitingOnUser(page, 'Side panel');
  await page.goto(`/swarms/${swarmId}/chat/${chatId}`);
  const log = page.getByRole('log', { name: 'Messages' });
  await expect(log.getByTestId('message').first()).toBeVisible();
  const before = (await log.boundingBox())!;
  await page.getByRole('button', { name: 'Node info' }).click();
  const panel = page.getByTestId('node-info-panel');
  await expect(panel.getByRole('heading', { name: 'Journal' })).toBeVisible();
  const after = (await log.boundingBox())!;
  const side = (await panel.boundingBox())!;
  expect(side.x).toBeGreaterThanOrEqual(after.x + after.width - 1); // beside, to the right
  expect(after.width).toBeGreaterThan(400);
  expect(after.height).toBeGreaterThan(before.height * 0.9); // not squeezed from above either
  await snap(page, 'node-info-beside');
  await expectAccessible(page, 'chat with node info');

  // A node that never talked: its chat opens from the list.
  await page.locator('.other-chats summary').click();
  const other = page.getByTestId('other-chat').first();
  const title = ((await other.textContent()) ?? '').trim();
  await other.click();
  await expect(page.getByRole('region', { name: `Chat: ${title}` })).toBeVisible();
  await expect(page.getByText('No messages yet.')).toBeVisible();
  await expect(page).toHaveURL(/\/chat\/chat-/);
});
