#!/usr/bin/env node
// Generates (write) or verifies (check) the web app's API types.
//
//   openapi.json        <- `python -m aga_swarm.server.export_openapi` (the server's OpenAPI document),
//                          regenerated whenever the project's virtualenv and the server package are present
//   src/api/schema.d.ts <- openapi-typescript openapi.json
//
// `check` writes both into a temp directory and fails when either differs from the committed file,
// so a Makefile or CI can run `npm run check:types`.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repo = resolve(web, '..');
const mode = process.argv[2] ?? 'check';
if (mode !== 'write' && mode !== 'check') {
  console.error('usage: node scripts/types.mjs write|check');
  process.exit(2);
}

const openapiPath = join(web, 'openapi.json');
const schemaPath = join(web, 'src', 'api', 'schema.d.ts');
const python = process.env.AGA_SWARM_PYTHON ?? join(repo, '.venv', 'bin', 'python');
const exporter = join(repo, 'src', 'aga_swarm', 'server', 'export_openapi.py');
const tmp = mkdtempSync(join(tmpdir(), 'aga-types-'));
let stale = [];

try {
  // 1. The OpenAPI document, from the server, when the server and a Python to run it are here.
  const freshOpenapi = join(tmp, 'openapi.json');
  if (existsSync(python) && existsSync(exporter)) {
    execFileSync(python, ['-m', 'aga_swarm.server.export_openapi', freshOpenapi], {
      cwd: repo,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    if (mode === 'write') copyFileSync(freshOpenapi, openapiPath);
    else if (!sameFile(freshOpenapi, openapiPath)) stale.push('web/openapi.json');
  } else {
    console.warn(
      `types: ${existsSync(python) ? exporter : python} not found; using the committed openapi.json as is`,
    );
  }

  // 2. TypeScript types from the (committed or fresh) document.
  const source = mode === 'write' || !existsSync(freshOpenapi) ? openapiPath : freshOpenapi;
  const freshSchema = join(tmp, 'schema.d.ts');
  execFileSync(process.execPath, [join(web, 'node_modules', 'openapi-typescript', 'bin', 'cli.js'), source, '-o', freshSchema], {
    cwd: web,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (mode === 'write') {
    copyFileSync(freshSchema, schemaPath);
    console.log('types: wrote web/openapi.json and web/src/api/schema.d.ts');
  } else if (!sameFile(freshSchema, schemaPath)) {
    stale.push('web/src/api/schema.d.ts');
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

if (stale.length) {
  console.error(`types: stale: ${stale.join(', ')}. Run \`npm run gen:types\` in web/ and commit the result.`);
  process.exit(1);
}
if (mode === 'check') console.log('types: openapi.json and src/api/schema.d.ts are up to date');

function sameFile(a, b) {
  return existsSync(a) && existsSync(b) && readFileSync(a, 'utf8') === readFileSync(b, 'utf8');
}
