// Clear errors for every way logging in can go wrong, and an expired session that returns you to where
// you were.
import { expect, expectAccessible, logIn, signUp, snap, test, uniqueName } from './fixtures';

const PASSWORD = 'a long enough password';

test('a taken username, a wrong password and an unreachable server each say so', async ({ page, browser }) => {
  const name = uniqueName('carol');
  await signUp(page, name, PASSWORD);
  await page.getByRole('button', { name: 'Log out' }).click();

  // Taken username (another browser context, nobody logged in).
  const ctx = await browser.newContext();
  const other = await ctx.newPage();
  await other.goto('/signup');
  await other.getByLabel('Username').fill(name);
  await other.getByLabel('Password').fill(PASSWORD);
  await other.getByRole('button', { name: 'Sign up' }).click();
  await expect(other.getByRole('alert')).toHaveText('That username is taken. Choose another one, or log in.');
  await snap(other, 'signup-username-taken');
  await ctx.close();

  // Wrong password.
  await expect(page.getByRole('heading', { name: 'Log in' })).toBeVisible();
  await logIn(page, name, 'not the password');
  await expect(page.getByRole('alert')).toHaveText('Wrong username or password.');
  await snap(page, 'login-wrong-password');
  await expectAccessible(page, 'log in (error)');

  // Server down: every API call fails at the network level.
  await page.route('**/api/**', (route) => route.abort('connectionrefused'));
  await logIn(page, name, PASSWORD);
  await expect(page.getByRole('alert')).toHaveText("Can't reach the AGA Swarm server. Check that it is running, then try again.");
  await snap(page, 'login-server-down');
  // And at start-up, the login page says it before anyone types.
  await page.goto('/swarms');
  await expect(page.getByRole('alert')).toContainText("Can't reach the AGA Swarm server");
  await page.unroute('**/api/**');

  await logIn(page, name, PASSWORD);
  await expect(page.getByRole('heading', { name: 'Swarms', level: 1 })).toBeVisible();
});

test('an expired session returns to the login page and then back to where you were', async ({ page, context }) => {
  const name = uniqueName('dave');
  await signUp(page, name, PASSWORD);
  await page.getByLabel('Goal').fill('Write a limerick');
  await page.getByRole('button', { name: 'Create swarm' }).click();
  await page.getByRole('link', { name: 'Open tree of Write a limerick' }).click();
  await expect(page.getByTestId('tree-canvas')).toBeVisible();
  const where = new URL(page.url()).pathname;
  await page.getByRole('navigation', { name: 'Swarm views' }).getByRole('link', { name: 'Chat' }).click();
  await expect(page).toHaveURL(/\/chat$/);

  // The session ends on the server's side (cookie gone): the next request gets 401.
  await context.clearCookies();
  await page.getByRole('navigation', { name: 'Swarm views' }).getByRole('link', { name: 'Tree' }).click();
  await page.getByRole('button', { name: 'Spawn' }).click();
  await expect(page.getByRole('heading', { name: 'Log in' })).toBeVisible();
  await expect(page.getByText('Your session expired. Log in again to pick up where you left off.')).toBeVisible();
  expect(new URL(page.url()).searchParams.get('next')).toBe(where);
  await snap(page, 'session-expired');
  await logIn(page, name, PASSWORD);
  await expect(page).toHaveURL(new RegExp(`${where}$`));
  await expect(page.getByTestId('tree-canvas')).toBeVisible();
});

test('swarm controls: edit the goal of a draft, clone, pause and resume, delete with confirmation', async ({ page }) => {
  const name = uniqueName('erin');
  await signUp(page, name, PASSWORD);
  await page.getByLabel('Name (optional)').fill('Controls');
  await page.getByLabel('Goal').fill('Ask me for a number\nAdd one to it');
  await page.getByRole('button', { name: 'Create swarm' }).click();
  const card = page.getByTestId('swarm-card').filter({ hasText: 'Controls' }).first();
  await expect(card).toBeVisible();

  await card.getByRole('button', { name: 'Edit goal' }).click();
  await card.getByLabel('Goal of Controls').fill('Ask me for a number\nAdd two to it');
  await card.getByRole('button', { name: 'Save goal' }).click();
  await expect(card.locator('.goal')).toHaveText('Ask me for a number\nAdd two to it');

  await card.getByRole('button', { name: 'Clone' }).click();
  await expect(page.getByTestId('swarm-card').filter({ hasText: 'Controls' })).toHaveCount(2);
  await expect(page.getByTestId('swarm-card')).toHaveCount(2);

  await card.getByRole('button', { name: 'Spawn' }).click();
  await expect(card.getByTestId('status-badge')).toHaveText(/Running/);
  await card.getByRole('button', { name: 'Pause' }).click();
  await expect(card.getByTestId('status-badge')).toHaveText(/Paused/);
  await card.getByRole('button', { name: 'Resume' }).click();
  await expect(card.getByTestId('status-badge')).toHaveText(/Running/);
  await snap(page, 'swarms-controls');

  await card.getByRole('button', { name: 'Delete' }).click();
  const dialog = page.getByRole('alertdialog');
  await expect(dialog).toBeVisible();
  await expect(dialog.getByRole('button', { name: 'Cancel' })).toBeFocused();
  await snap(page, 'swarms-delete-confirm');
  await expectAccessible(page, 'delete confirmation');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByTestId('swarm-card')).toHaveCount(2);
  await card.getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('alertdialog').getByRole('button', { name: 'Delete swarm' }).click();
  await expect(page.getByTestId('swarm-card')).toHaveCount(1);
});

test('small screens: one column, every control still reachable', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  const name = uniqueName('fay');
  await signUp(page, name, PASSWORD);
  await page.getByLabel('Goal').fill('Ask me something\nDo a thing');
  await page.getByRole('button', { name: 'Create swarm' }).click();
  await page.getByRole('button', { name: 'Spawn' }).click();
  await snap(page, 'mobile-swarms');
  await page.getByRole('link', { name: /Open chats of/ }).click();
  await page.getByTestId('chat-item').first().click();
  await expect(page.getByLabel('Your reply')).toBeVisible();
  await snap(page, 'mobile-chat');
  await expectAccessible(page, 'chat (mobile)');
  await page.getByRole('link', { name: 'All chats' }).click();
  await page.getByRole('navigation', { name: 'Swarm views' }).getByRole('link', { name: 'Tree' }).click();
  await expect(page.getByTestId('tree-canvas')).toBeVisible();
  await expect(page.getByRole('slider', { name: 'History position' })).toBeVisible();
  await snap(page, 'mobile-tree');
});

test('status changes arrive live on the swarms page', async ({ page }) => {
  const name = uniqueName('gil');
  await signUp(page, name, PASSWORD);
  await page.getByLabel('Name (optional)').fill('Quick one');
  // The question keeps the swarm running (and the page's socket connected) until it is answered below.
  await page.getByLabel('Goal').fill('Ask the user for a colour\nWrite a haiku');
  await page.getByRole('button', { name: 'Create swarm' }).click();
  const card = page.getByTestId('swarm-card').filter({ hasText: 'Quick one' });
  // Watch what the Socket.IO channel carries (websocket frames, or long-polling responses).
  const pushed: string[] = [];
  page.on('websocket', (ws) => ws.on('framereceived', (f) => pushed.push(String(f.payload))));
  page.on('response', async (r) => {
    if (r.url().includes('/socket.io/') && r.request().method() === 'GET') pushed.push(await r.text().catch(() => ''));
  });
  await card.getByRole('button', { name: 'Spawn' }).click();
  await expect(card.getByTestId('status-badge')).toHaveText(/Running/);
  // Answer from outside the page (as another tab would), once the question is waiting.
  const swarms = ((await (await page.request.get('/api/swarms')).json()) as { items: { id: string; name: string }[] }).items;
  const id = swarms.find((s) => s.name === 'Quick one')!.id;
  let chatId = '';
  await expect.poll(async () => {
    const chats = (await (await page.request.get(`/api/swarms/${id}/chats`)).json()) as { id: string; status: string }[];
    chatId = chats.find((c) => c.status === 'awaiting_user')?.id ?? '';
    return chatId;
  }, { timeout: 30_000 }).not.toBe('');
  const reply = await page.request.post(`/api/swarms/${id}/chats/${chatId}/messages`, { data: { content: 'blue' } });
  expect(reply.status()).toBe(202);
  // Nobody reloads: the socket's events move the badge to Completed.
  await expect(card.getByTestId('status-badge')).toHaveText(/Completed/, { timeout: 30_000 });
  // the app asks for batches: a committed batch is one `swarm_events` packet
  expect(pushed.some((p) => p.includes('"swarm_events"') && p.includes('"completed"'))).toBe(true);
  expect(pushed.some((p) => p.includes('swarm_notice') && p.includes('finished'))).toBe(true);
  await snap(page, 'swarms-live-status');
});
