// The browser quick start bundled by esbuild, as a new user would: main.js
// and producer.js as two entry points (esbuild leaves
// `new URL('./producer.js', import.meta.url)` alone, so the worker must be an
// entry of its own), 'wasm-ringbuf' resolved from node_modules as npm lays it
// out, then run in Chromium from a static server that rewrites nothing.
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPage, spawnStaticServer, useChromium } from './browser.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const chromium = useChromium();

describe('the browser quick start bundled by esbuild', () => {
  let dir: string;
  let server: ChildProcess | undefined;
  let url: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wasm-ringbuf-esbuild-'));
    const app = join(dir, 'app');
    const pkg = join(app, 'node_modules/wasm-ringbuf');
    mkdirSync(pkg, { recursive: true });
    cpSync(join(ROOT, 'package.json'), join(pkg, 'package.json'));
    cpSync(join(ROOT, 'dist'), join(pkg, 'dist'), { recursive: true });
    cpSync(join(ROOT, 'node_modules/@assemblyscript/loader'), join(app, 'node_modules/@assemblyscript/loader'), { recursive: true });
    for (const f of ['index.html', 'main.js', 'producer.js']) copyFileSync(join(ROOT, 'examples/browser/quickstart', f), join(app, f));
    const out = join(dir, 'out');
    await build({
      absWorkingDir: app,
      entryPoints: ['main.js', 'producer.js'],
      outdir: out,
      bundle: true,
      format: 'esm',
      target: 'es2022',
      logLevel: 'warning',
    });
    copyFileSync(join(app, 'index.html'), join(out, 'index.html'));
    copyFileSync(join(ROOT, 'examples/browser/no-bundler/serve.mjs'), join(out, 'serve.mjs'));
    ({ url, server } = await spawnStaticServer(out));
  }, 60_000);

  afterAll(() => {
    server?.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('bundles both entries with no bare import left, and runs: 2000 records, none dropped', async () => {
    for (const f of ['main.js', 'producer.js']) {
      expect(readFileSync(join(dir, 'out', f), 'utf8'), f).not.toMatch(/from\s*["'](wasm-ringbuf|@assemblyscript\/loader)["']/);
    }
    const { page, errors } = await openPage(chromium.get(), url);
    await page
      .waitForFunction(() => document.querySelector('#log')?.textContent?.includes('received'), null, { timeout: 30_000 })
      .catch(async (err: Error) => {
        throw new Error(`the page printed no result: ${err.message}\nlog: ${await page.locator('#log').innerText().catch(() => '?')}\n${errors.join('\n')}`);
      });
    const log = await page.locator('#log').innerText();
    expect(log).toMatch(/^(alpha|beta) says hello #0$/m);
    expect(log).toContain('received 2000 records; dropped 0');
    expect(errors).toEqual([]);
    await page.close();
  });
});
