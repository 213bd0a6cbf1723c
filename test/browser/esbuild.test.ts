// The browser quick start bundled by esbuild, as a new user would: main.js
// and producer.js as two entry points (esbuild leaves
// `new URL('./producer.js', import.meta.url)` alone, so the worker must be an
// entry of its own), 'wasm-ringbuf' resolved from node_modules as npm lays it
// out, then run in Chromium from a static server that rewrites nothing.
import { copyFileSync, cpSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { openPage, quickStartLog, useChromium, useStaticSite } from './browser.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const chromium = useChromium();

describe('the browser quick start bundled by esbuild', () => {
  const site = useStaticSite(
    'wasm-ringbuf-esbuild-',
    async (dir) => {
      const app = join(dir, 'app');
      const pkg = join(app, 'node_modules/wasm-ringbuf');
      mkdirSync(pkg, { recursive: true });
      cpSync(join(ROOT, 'package.json'), join(pkg, 'package.json'));
      cpSync(join(ROOT, 'dist'), join(pkg, 'dist'), { recursive: true });
      for (const f of ['index.html', 'main.js', 'producer.js'])
        copyFileSync(join(ROOT, 'examples/browser/quickstart', f), join(app, f));
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
      return out;
    },
    60_000,
  );

  it('bundles both entries with no bare import left, and runs: 2000 records, none dropped', async () => {
    for (const f of ['main.js', 'producer.js']) {
      expect(readFileSync(join(site.dir(), 'out', f), 'utf8'), f).not.toMatch(/from\s*["']wasm-ringbuf["']/);
    }
    const { page, errors } = await openPage(chromium.get(), site.url());
    const log = await quickStartLog(page, errors);
    expect(log).toMatch(/^(alpha|beta) says hello #0$/m);
    expect(log).toContain('received 2000 records; dropped 0');
    expect(errors).toEqual([]);
    await page.close();
  });
});
