// Approvals in the node's chat with the per-swarm auto-approve switch, in Chromium against `aga-swarm serve`
// started here with the operator's MCP config (the real filesystem server from npm, tests/mcp): two writes wait
// for approval; ticking "Approve fs.write_file automatically in this swarm" and pressing Approve lets both go; the
// Actions tab shows that switch for the tool and turns it off and on again.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, signUp, snap, test as base, uniqueName } from './fixtures';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const FILESYSTEM = join(repo, 'tests', 'mcp', 'node_modules', '.bin', 'mcp-server-filesystem');

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => ok(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

interface McpServe {
  url: string;
  share: string;
}

const test = base.extend<object, { mcpServe: McpServe }>({
  mcpServe: [
    async ({}, use) => {
      if (!existsSync(FILESYSTEM)) throw new Error(`${FILESYSTEM} missing: run make mcp-servers`);
      const dir = mkdtempSync(join(tmpdir(), 'aga-e2e-mcp-'));
      const share = join(dir, 'share');
      const config = join(dir, 'mcp.json');
      mkdirSync(share);
      writeFileSync(config, JSON.stringify({ mcpServers: { fs: { command: FILESYSTEM, args: [share], timeout: 60 } } }));
      const port = await freePort();
      const bin = process.env.AGA_SWARM_BIN ?? join(repo, '.venv', 'bin', 'aga-swarm');
      const log = openSync(join(process.env.AGA_E2E_ARTIFACTS ?? dir, 'approvals-server.log'), 'w');
      const child: ChildProcess = spawn(
        bin,
        ['serve', '--host', '127.0.0.1', '--port', String(port), '--data-dir', join(dir, 'data'), '--mcp-config', config],
        { env: { ...process.env, AGA_SWARM_IDLE_SECONDS: '3', AGA_SWARM_BCRYPT_ROUNDS: '4' }, stdio: ['ignore', log, log] },
      );
      const url = `http://127.0.0.1:${port}`;
      await expect
        .poll(async () => {
          if (child.exitCode !== null) throw new Error(`aga-swarm serve exited with ${child.exitCode}`);
          return fetch(`${url}/healthz`).then((r) => r.ok, () => false);
        }, { timeout: 60_000 })
        .toBe(true);
      await use({ url, share });
      child.kill('SIGTERM');
      await new Promise<void>((r) => (child.exitCode !== null ? r() : child.once('exit', () => r())));
      rmSync(dir, { recursive: true, force: true });
    },
    { scope: 'worker' },
  ],
  baseURL: async ({ mcpServe }, use) => {
    await use(mcpServe.url);
  },
});

const tool = (path: string, content: string) => `Tool: fs.write_file ${JSON.stringify({ path, content })}`;

test('approving a tool automatically in this swarm lets every waiting call of it go ahead', async ({ page, mcpServe }) => {
  await signUp(page, uniqueName('approve'), 'a long enough password');
  const headers = { Origin: new URL(page.url()).origin };
  const a = join(mcpServe.share, 'a.md');
  const b = join(mcpServe.share, 'b.md');
  const created = await page.request.post('/api/swarms', {
    data: { goal: `${tool(a, 'A')}\n${tool(b, 'B')}`, name: 'Writes', config: 'local' },
    headers,
  });
  expect(created.status()).toBe(201);
  const swarmId = ((await created.json()) as { id: string }).id;
  expect((await page.request.post(`/api/swarms/${swarmId}/spawn`, { headers })).status()).toBe(200);

  let chatId = '';
  await expect
    .poll(async () => {
      const chats = (await (await page.request.get(`/api/swarms/${swarmId}/chats`, { headers })).json()) as { id: string; status: string }[];
      const waiting = chats.filter((c) => c.status === 'awaiting_user');
      chatId = waiting[0]?.id ?? '';
      return waiting.length;
    }, { timeout: 60_000 })
    .toBe(2);
  expect(existsSync(a) || existsSync(b)).toBe(false);

  await page.goto(`/swarms/${swarmId}/chat/${chatId}`);
  const bar = page.getByTestId('approval-bar');
  await expect(bar.getByRole('button', { name: 'Approve' })).toBeVisible();
  await bar.getByRole('checkbox', { name: 'Approve fs.write_file automatically in this swarm' }).check();
  await snap(page, 'auto-approve');
  await bar.getByRole('button', { name: 'Approve' }).click();

  // both writes went ahead: the one on screen and the other node's, answered by the switch
  await expect.poll(() => existsSync(a) && existsSync(b), { timeout: 60_000 }).toBe(true);
  await expect(page.getByRole('region', { name: /^Chat: / }).getByTestId('message').filter({ hasText: 'approved automatically' })).toHaveCount(1);
  await expect(bar).toHaveCount(0);
  const covered = async () =>
    ((await (await page.request.get(`/api/swarms/${swarmId}/state`, { headers })).json()) as { auto_approve: string[] }).auto_approve;
  expect(await covered()).toEqual(['fs.write_file']);

  // the Actions tab shows the same switch for the tool, and turns it off
  await page.goto(`/swarms/${swarmId}/actions?action=fs.write_file`);
  const toggle = page.getByTestId('action-detail').getByRole('switch', { name: 'Approve fs.write_file automatically in this swarm' });
  await expect(toggle).toBeChecked();
  await snap(page, 'auto-approve-actions-tab');
  await toggle.click();
  await expect(toggle).not.toBeChecked();
  await expect.poll(covered, { timeout: 30_000 }).toEqual([]);
  await expect(toggle).toBeEnabled(); // the request is done and the view has the switch's event
  await expect(toggle).not.toBeChecked();
  await toggle.click();
  await expect.poll(covered, { timeout: 30_000 }).toEqual(['fs.write_file']);
  await expect(toggle).toBeEnabled();
  await expect(toggle).toBeChecked();
});
