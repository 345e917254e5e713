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
