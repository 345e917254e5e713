// Starts `aga-swarm serve` on 127.0.0.1 (free port, temp data dir, short idle time) for the browser tests,
// and stops it afterwards. Fails (never skips) when Chromium, the server or the web build is missing.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM } from '../playwright.config';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..');

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => ok(port));
    });
  });
}

async function waitHealthy(url: string, child: ChildProcess, ms: number): Promise<void> {
  const until = Date.now() + ms;
  let last = '';
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`aga-swarm serve exited with ${child.exitCode}; see ${process.env.AGA_E2E_SERVER_LOG}`);
    try {
      const r = await fetch(url);
      if (r.ok) return;
      last = `HTTP ${r.status}`;
    } catch (e) {
      last = String(e);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`aga-swarm serve did not become healthy at ${url}: ${last}`);
}

export default async function globalSetup(): Promise<() => Promise<void>> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}. Install Debian's package: apt-get install -y chromium`);
  }
  const index = join(repo, 'src', 'aga_swarm', 'server', 'static', 'index.html');
  if (!existsSync(index)) throw new Error(`The web app is not built (${index} missing): run npm run build first`);
  const venvBin = join(repo, '.venv', 'bin', 'aga-swarm');
  const bin = process.env.AGA_SWARM_BIN ?? (existsSync(venvBin) ? venvBin : 'aga-swarm');

  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'aga-e2e-'));
  const artifacts = resolve(repo, 'test-artifacts', 'e2e');
  mkdirSync(artifacts, { recursive: true });
  for (const f of readdirSync(artifacts)) if (f.endsWith('.png')) rmSync(join(artifacts, f));
  const logPath = join(artifacts, 'server.log');
  process.env.AGA_E2E_SERVER_LOG = logPath;
  const log = openSync(logPath, 'w');
  const child = spawn(bin, ['serve', '--host', '127.0.0.1', '--port', String(port), '--data-dir', dataDir], {
    env: {
      ...process.env,
      AGA_SWARM_IDLE_SECONDS: process.env.AGA_SWARM_IDLE_SECONDS ?? '3',
      AGA_SWARM_BCRYPT_ROUNDS: '4',
      // Every test signs up its own user from 127.0.0.1: more than the default 20 signups per address.
      AGA_SWARM_SIGNUP_IP_MAX: '500',
      AGA_SWARM_LOG_LEVEL: 'info',
    },
    stdio: ['ignore', log, log],
  });
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitHealthy(`${base}/healthz`, child, 30_000);
  } catch (e) {
    child.kill('SIGTERM');
    throw e;
  }
  process.env.AGA_E2E_BASE_URL = base;
  process.env.AGA_E2E_ARTIFACTS = artifacts;

  return async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise<void>((r) => {
        const t = setTimeout(() => {
          child.kill('SIGKILL');
          r();
        }, 10_000);
        child.once('exit', () => {
          clearTimeout(t);
          r();
        });
      });
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
}
