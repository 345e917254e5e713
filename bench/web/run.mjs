#!/usr/bin/env node
// Web app benchmark, in Debian's headless Chromium driven by Playwright (from web/node_modules).
//
//   node bench/web/run.mjs [--no-build] [--json out.json]
//
// Measures, through the app's real store, reducer, seeker and canvas renderer (the /__bench page):
//   - tree first render (state dispatched -> first frame drawn) and frame time while panning,
//     at 500, 5,000 and 20,000 nodes, at a readable zoom and with the whole tree on screen, with the
//     renderer's main-thread CPU per frame from a Chromium trace (script + the canvas's commit: thread
//     time, which the machine's load does not inflate as it does wall time and fps), and a check that
//     frames copied from the tree's bitmap match frames drawn directly;
//   - seek time in a 100,000-event history (snapshot at the anchor below + fold of the rest);
//   - gzipped size of the initial bundle and of each lazy chunk.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..');
const web = join(repo, 'web');
const staticDir = join(repo, 'src', 'aga_swarm', 'server', 'static');
const args = process.argv.slice(2);
const CHROMIUM = process.env.AGA_CHROMIUM ?? '/usr/bin/chromium';

if (!existsSync(CHROMIUM)) {
  console.error(`Chromium not found at ${CHROMIUM} (apt-get install -y chromium)`);
  process.exit(1);
}
if (!args.includes('--no-build')) {
  execFileSync('npm', ['run', 'build'], { cwd: web, stdio: ['ignore', 'ignore', 'inherit'] });
}
const require = createRequire(join(web, 'package.json'));
const { chromium } = require('@playwright/test');

// ---- bundle sizes ------------------------------------------------------------------------------
function gz(path) {
  return gzipSync(readFileSync(path), { level: 9 }).length;
}
const indexHtml = readFileSync(join(staticDir, 'index.html'), 'utf8');
const initialFiles = new Set(
  [...indexHtml.matchAll(/(?:src|href)="\/?(assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1]),
);
const assets = readdirSync(join(staticDir, 'assets'));
const sizes = { initial: [], lazy: [], fonts: 0, fontFiles: 0 };
for (const f of assets) {
  const rel = `assets/${f}`;
  const path = join(staticDir, rel);
  const ext = extname(f);
  if (ext === '.js' || ext === '.css') {
    const entry = { file: rel, raw: statSync(path).size, gzip: gz(path) };
    (initialFiles.has(rel) ? sizes.initial : sizes.lazy).push(entry);
  } else if (ext === '.woff2') {
    sizes.fonts += statSync(path).size;
    sizes.fontFiles += 1;
  }
}
const initialGzip = sizes.initial.reduce((a, b) => a + b.gzip, 0) + gz(join(staticDir, 'index.html'));

// ---- a static server for the build (SPA fallback) ------------------------------------------------
const TYPES = { '.js': 'text/javascript', '.css': 'text/css', '.html': 'text/html', '.woff2': 'font/woff2', '.woff': 'font/woff', '.ttf': 'font/ttf' };
const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  let path = join(staticDir, decodeURIComponent(url.pathname));
  if (!path.startsWith(staticDir) || !existsSync(path) || statSync(path).isDirectory()) path = join(staticDir, 'index.html');
  if (url.pathname.startsWith('/api/')) {
    res.writeHead(401, { 'content-type': 'application/json' }).end('{"detail":"not logged in"}');
    return;
  }
  res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' });
  res.end(readFileSync(path));
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}`;

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
// Pan for `frames` frames under a Chromium trace: the page's figures plus the renderer main thread's CPU time
// per frame (ProxyMain::BeginMainFrame: the frame's script, style, layout, paint and the canvas's commit).
async function tracedPan(page, frames, view) {
  await browser.startTracing(page, { categories: ['devtools.timeline', 'cc', 'blink'] });
  const res = await page.evaluate(([f, v]) => window.__bench.pan(f, v), [frames, view]);
  const events = JSON.parse((await browser.stopTracing()).toString()).traceEvents;
  const cpu = (name) => events.filter((e) => e.name === name && e.ph === 'X').reduce((a, e) => a + (e.tdur ?? 0), 0) / 1000 / frames;
  return { ...res, cpuMs: { frame: cpu('ProxyMain::BeginMainFrame'), script: cpu('FireAnimationFrame'), commit: cpu('Commit') } };
}

const results = { date: new Date().toISOString().slice(0, 10), nproc: cpus().length, load: loadavg().map((x) => x.toFixed(2)).join(' '), chromium: browser.version(), tree: [], readability: [], seek: null, sizes };
try {
  for (const n of [500, 5000, 20000]) {
    // A fresh page per size, so one size's garbage does not slow the next.
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    await page.goto(`${base}/__bench`);
    await page.waitForFunction(() => window.__benchReady === true);
    const first = await page.evaluate((k) => window.__bench.tree(k), n);
    const detail = await tracedPan(page, 240, 'detail');
    // The whole tree on screen, drawing every frame (as before the bitmap copies) and with them, interleaved.
    const useScene = (on) => page.evaluate((v) => { window.__treeDebug.renderer.useScene = v; }, on);
    await useScene(false);
    const fitDirect = await tracedPan(page, 240, 'fit');
    await useScene(true);
    const fit = await tracedPan(page, 240, 'fit');
    await useScene(false);
    const fitDirect2 = await tracedPan(page, 240, 'fit');
    await useScene(true);
    const fit2 = await tracedPan(page, 240, 'fit');
    const scene = await page.evaluate(() => window.__bench.sceneCheck());
    results.tree.push({ n, first, detail, fit, scene, fitRuns: { direct: [fitDirect, fitDirect2], copied: [fit, fit2] } });
    process.stderr.write(`tree ${n}: first ${first.firstRenderMs.toFixed(1)} ms, pan draw p95 ${detail.draw.p95.toFixed(2)} / fit ${fit.draw.p95.toFixed(2)} ms\n`);
    await page.close();
  }
  // Readability: the glyph size at "Fit" (the tree page's canvas is about this 1200x700 canvas).
  {
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    await page.goto(`${base}/__bench`);
    await page.waitForFunction(() => window.__benchReady === true);
    for (const [shape, n] of [['synthetic plan', 275], ['one plan of 274 subtasks', 275], ['synthetic plan', 1000], ['synthetic plan', 5000]]) {
      if (shape.startsWith('one')) await page.evaluate((k) => window.__bench.fanOut(k), n);
      else await page.evaluate((k) => window.__bench.tree(k), n);
      const fit = await page.evaluate(() => window.__bench.glyphAtFit());
      results.readability.push({ shape, ...fit });
    }
    await page.close();
  }
  const page = await browser.newPage();
  await page.goto(`${base}/__bench`);
  await page.waitForFunction(() => window.__benchReady === true);
  results.seek = await page.evaluate(() => window.__bench.seek(100000, 40));
  await page.close();
} finally {
  await browser.close();
  server.close();
}

// ---- report --------------------------------------------------------------------------------------
const f1 = (x) => x.toFixed(1);
const f2 = (x) => x.toFixed(2);
const kb = (b) => `${(b / 1024).toFixed(1)} KB`;
const out = [];
out.push(`Web app benchmark, ${results.date}, nproc ${results.nproc}, load average ${results.load} at the start, ${results.chromium} headless (--disable-gpu), 1280x860 page, 1200x700 canvas`);
out.push('');
out.push('| nodes | first render (ms) | pan, readable zoom: draw p50 / p95 (ms) | CPU per frame (ms) | nodes drawn | fps | pan, whole tree on screen: draw p50 / p95 (ms) | CPU per frame (ms) | nodes drawn | fps | bitmap copies: used, max channel delta vs direct |');
out.push('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
for (const t of results.tree) {
  out.push(`| ${t.n.toLocaleString('en')} | ${f1(t.first.firstRenderMs)} | ${f2(t.detail.draw.p50)} / ${f2(t.detail.draw.p95)} | ${f2(t.detail.cpuMs.frame)} | ${t.detail.drawn} | ${f1(t.detail.fps)} | ${f2(t.fit.draw.p50)} / ${f2(t.fit.draw.p95)} | ${f2(t.fit.cpuMs.frame)} | ${t.fit.drawn} | ${f1(t.fit.fps)} | ${t.scene.cached ? 'yes' : 'no'}, ${t.scene.maxDelta} |`);
}
out.push('');
out.push('CPU per frame: the renderer main thread\'s thread time per frame while panning (script + the canvas\'s commit), from a Chromium trace.');
out.push('');
out.push('Whole tree on screen, two runs each, interleaved: drawing every frame (as before) vs copying the bitmap of the tree (trees from 1,000 nodes)');
out.push('');
out.push('| nodes | drawing every frame: CPU per frame (ms) | fps | copying the bitmap: CPU per frame (ms) | fps |');
out.push('|---:|---:|---:|---:|---:|');
for (const t of results.tree) {
  const d = t.fitRuns.direct;
  const c = t.fitRuns.copied;
  out.push(`| ${t.n.toLocaleString('en')} | ${d.map((x) => f2(x.cpuMs.frame)).join(', ')} | ${d.map((x) => f1(x.fps)).join(', ')} | ${c.map((x) => f2(x.cpuMs.frame)).join(', ')} | ${c.map((x) => f1(x.fps)).join(', ')} |`);
}
out.push('');
out.push('Readability: glyph diameter at "Fit" (all glyphs are drawn the same size, so this is also the smallest)');
out.push('');
out.push('| tree | nodes | drawing (world units) | glyph at Fit (px) |');
out.push('|---|---:|---:|---:|');
for (const t of results.readability) out.push(`| ${t.shape} | ${t.nodes.toLocaleString('en')} | ${Math.round(t.width)} x ${Math.round(t.height)} | ${f2(t.glyphPx)} |`);
const s = results.seek;
out.push('');
out.push(`Seek in a ${s.events.toLocaleString('en')}-event history (${s.nodes.toLocaleString('en')} nodes), ${s.cold.n} random targets; fold agrees with a plain fold: ${s.foldAgreesWithPlainFold}`);
out.push('');
out.push('| seek | p50 (ms) | p95 (ms) | max (ms) |');
out.push('|---|---:|---:|---:|');
out.push(`| cold: parse the snapshot at the anchor below (as from \`state?at=\`) + fetch page + fold the rest | ${f2(s.cold.p50)} | ${f2(s.cold.p95)} | ${f2(s.cold.max)} |`);
out.push(`| warm: checkpoints and pages cached (dragging the slider) | ${f2(s.warm.p50)} | ${f2(s.warm.p95)} | ${f2(s.warm.max)} |`);
out.push(`| step one event (play, step buttons) | ${f2(s.step.p50)} | ${f2(s.step.p95)} | ${f2(s.step.max)} |`);
out.push(`| reference: fold all ${s.events.toLocaleString('en')} events from empty, no snapshot | ${f1(s.fullFoldMs)} | | |`);
out.push('');
out.push('| bundle | raw | gzip |');
out.push('|---|---:|---:|');
out.push(`| **initial (index.html + ${sizes.initial.length} files)** | ${kb(sizes.initial.reduce((a, b) => a + b.raw, 0))} | **${kb(initialGzip)}** |`);
for (const e of sizes.initial) out.push(`| initial: ${e.file} | ${kb(e.raw)} | ${kb(e.gzip)} |`);
for (const e of [...sizes.lazy].sort((a, b) => b.gzip - a.gzip)) out.push(`| lazy: ${e.file} | ${kb(e.raw)} | ${kb(e.gzip)} |`);
out.push(`| lazy: KaTeX fonts, ${sizes.fontFiles} woff2 files (fetched only for the glyphs used) | ${kb(sizes.fonts)} | (already compressed) |`);
console.log(out.join('\n'));
const jsonAt = args.indexOf('--json');
if (jsonAt >= 0 && args[jsonAt + 1]) writeFileSync(args[jsonAt + 1], JSON.stringify(results, null, 2));
