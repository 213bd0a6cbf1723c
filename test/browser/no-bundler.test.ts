// A page with no bundler and no import map: examples/browser/no-bundler as a
// user lays it out (its three files and the single-file build copied beside
// them), served by its own serve.mjs, which rewrites nothing. The page and a
// module worker import dist/wasm-ringbuf.bundle.js directly and move records.
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { openPage, quickStartLog, useChromium, useStaticSite } from './browser.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const EXAMPLE = join(ROOT, 'examples/browser/no-bundler');
const BUNDLE = join(ROOT, 'dist/wasm-ringbuf.bundle.js');
const chromium = useChromium();

describe('the single-file build in a page with no bundler (examples/browser/no-bundler)', () => {
  const site = useStaticSite('wasm-ringbuf-no-bundler-', (dir) => {
    for (const f of ['index.html', 'producer.js', 'serve.mjs']) copyFileSync(join(EXAMPLE, f), join(dir, f));
    copyFileSync(BUNDLE, join(dir, 'wasm-ringbuf.bundle.js'));
    return dir;
  });

  it('the bundle is one ES module that imports nothing', () => {
    const js = readFileSync(BUNDLE, 'utf8');
    expect(js).not.toMatch(/\bimport\s*[{*"'(]|\bfrom\s*["']/);
    expect(js).toMatch(/export\s*\{/);
    expect(js).toContain('WebAssembly.instantiate');
  });

  it('the page and a module worker import it directly and move every record; nothing else is requested', async () => {
    const requested = new Set<string>();
    const context = await chromium.get().newContext();
    context.on('request', (r) => requested.add(new URL(r.url()).pathname)); // the page's and its workers'
    const { page, errors } = await openPage(context as unknown as Browser, site.url()); // openPage() needs newPage() only
    const log = await quickStartLog(page, errors);
    expect(log).toMatch(/^(alpha|beta) says hello #0$/m);
    expect(log).toContain('received 2000 records; dropped 0');
    expect(await page.evaluate(() => globalThis.crossOriginIsolated)).toBe(true);
    for (const p of requested)
      expect(['/', '/producer.js', '/wasm-ringbuf.bundle.js', '/favicon.ico', '/wasm-ringbuf.bundle.js.map']).toContain(
        p,
      );
    expect(requested.has('/producer.js')).toBe(true);
    expect(errors.filter((e) => !e.includes('favicon'))).toEqual([]);
    await context.close();
  });
});
