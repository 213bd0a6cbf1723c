// The demo page in Chromium (served as is, and built by Vite), its
// screenshot, and the README's browser quick start run verbatim by Vite's dev
// server from an app that installed the package.
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openPage, quickStartLog, useChromium, useServer } from './browser.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// Every run leaves its screenshot in build/; the one the README shows is refreshed when missing
// or with UPDATE_SCREENSHOT=1, so that a test run does not rewrite a tracked file.
const SCREENSHOT = join(ROOT, 'examples/browser/screenshot.png');
const SCREENSHOT_RUN = join(ROOT, 'build/browser-demo-screenshot.png');
const MODE_RING = 1;

const chromium = useChromium();
const server = useServer();

/**
 * Waits (bounded) until the three lanes have run and the ring lane is live
 * again with every number non-zero; then returns what the page shows.
 */
async function waitForBothLanes(page: Page, errors: string[], { settleMs = 0, fps = false, timeout = 40_000 } = {}) {
  await page
    .waitForFunction(
      ({ ring, settleMs, fps }) =>
        demo.error !== null ||
        (demo.ready &&
          demo.mode === ring &&
          demo.phaseAge >= settleMs &&
          demo.post.records > 0 &&
          demo.batch.records > 0 &&
          demo.ring.records > 0 &&
          demo.ring.rate > 0 &&
          demo.ring.wakeups > 0 &&
          demo.ring.polls > 0 &&
          Number.isFinite(demo.ratio) &&
          Number.isFinite(demo.ratioBatch) &&
          (!fps ||
            (Number.isFinite(demo.ring.fps) && Number.isFinite(demo.post.fps) && Number.isFinite(demo.batch.fps)))),
      { ring: MODE_RING, settleMs, fps },
      { timeout, polling: 250 },
    )
    .catch(async (err: Error) => {
      const state = await page.evaluate(() => JSON.stringify(globalThis.demo)).catch(() => 'unavailable');
      throw new Error(
        `the demo did not show the three lanes running: ${err.message}\nstate: ${state}\n${errors.join('\n')}`,
      );
    });
  const state = await page.evaluate(() => ({ ...demo, settings: undefined }));
  expect(state.error, errors.join('\n')).toBeNull();
  return state;
}

function checkNumbers(state: Awaited<ReturnType<typeof waitForBothLanes>>) {
  for (const lane of [state.ring, state.post, state.batch]) {
    expect(lane.records).toBeGreaterThan(0);
    expect(lane.avgRate).toBeGreaterThan(0);
    expect(lane.orderErrors).toBe(0);
    expect(lane.latencyMs).toBeGreaterThan(0);
  }
  expect(state.ring.wakeups).toBeGreaterThan(0);
  expect(state.ring.polls).toBeGreaterThan(0);
  // what the consumer was told it lost never exceeds what the ring refused
  expect(state.ring.lost).toBeLessThanOrEqual(state.ring.dropped);
  expect(state.ratio).toBeGreaterThan(0);
  expect(state.ratioBatch).toBeGreaterThan(0);
  // the batched lane: one message event per 64 records
  expect(state.batch.records).toBe(state.batch.wakeups * 64);
}

describe('the demo page', () => {
  it('runs: workers produce into the ring, by postMessage and by batched postMessage, the numbers move; screenshot', async () => {
    const { page, errors } = await openPage(chromium.get(), `${server.get().url}examples/browser/?phaseMs=3000`, {
      width: 1280,
      height: 1060,
    });
    // the screenshot: the ring lane live again for a second and a half, after a turn of each
    const state = await waitForBothLanes(page, errors, { settleMs: 1500, fps: true });
    checkNumbers(state);
    // what a person sees: the counters on the page are non-zero too
    for (const lane of ['ring', 'post', 'batch']) {
      const text = await page.locator(`#lane-${lane} [data-k="records"]`).innerText();
      expect(Number.parseFloat(text.replace(/,/g, '')), `${lane} records on the page: ${text}`).toBeGreaterThan(0); // "31,607" or "31.61 M"
    }
    expect(await page.locator('#lane-ring [data-k="wakeups"]').innerText()).not.toBe('0');
    expect(await page.locator('#isolation').innerText()).toBe('cross-origin isolated');
    // the two loss counters are explained where they are shown
    expect(await page.locator('#dropped-vs-lost').innerText()).toMatch(/dropped.*lost, as reported/s);
    await page.screenshot({ path: SCREENSHOT_RUN, fullPage: true });
    if (process.env.UPDATE_SCREENSHOT === '1' || !existsSync(SCREENSHOT)) cpSync(SCREENSHOT_RUN, SCREENSHOT);
    expect(errors).toEqual([]);
    await page.close();
  });
});

describe('the demo built by Vite', () => {
  const out = join(ROOT, 'build/browser-demo');

  beforeAll(async () => {
    // exactly the documented command
    await promisify(execFile)(
      process.execPath,
      [
        join(ROOT, 'node_modules/vite/bin/vite.js'),
        'build',
        'examples/browser',
        '--config',
        'examples/browser/vite.config.mjs',
        '--logLevel',
        'warn',
      ],
      { cwd: ROOT, timeout: 120_000 },
    );
  }, 150_000);

  it('bundles the page and the module worker with no bare import and no import map left', () => {
    const html = readFileSync(join(out, 'index.html'), 'utf8');
    expect(html).not.toContain('importmap');
    const assets = readdirSync(join(out, 'assets'));
    expect(assets.some((f) => f.startsWith('producer.worker'))).toBe(true);
    for (const f of assets.filter((a) => a.endsWith('.js'))) {
      const js = readFileSync(join(out, 'assets', f), 'utf8');
      expect(js, f).not.toMatch(/from\s*["']wasm-ringbuf["']/);
    }
  });

  it('runs in Chromium', async () => {
    const { page, errors } = await openPage(chromium.get(), `${server.get().url}build/browser-demo/?phaseMs=1500`);
    checkNumbers(await waitForBothLanes(page, errors));
    expect(errors).toEqual([]);
    await page.close();
  });
});

describe('the README browser quick start (examples/browser/quickstart), verbatim', () => {
  let app: string;
  let vite: { close(): Promise<void>; resolvedUrls: { local: string[] } | null } | undefined;

  beforeAll(async () => {
    // An app that ran `npm install wasm-ringbuf vite`: the package as npm lays it out.
    app = mkdtempSync(join(tmpdir(), 'wasm-ringbuf-quickstart-'));
    cpSync(join(ROOT, 'examples/browser/quickstart'), app, { recursive: true });
    const pkg = join(app, 'node_modules/wasm-ringbuf');
    cpSync(join(ROOT, 'package.json'), join(pkg, 'package.json'));
    cpSync(join(ROOT, 'dist'), join(pkg, 'dist'), { recursive: true });
    const { createServer } = await import('vite');
    const server = await createServer({
      root: app,
      configFile: join(app, 'vite.config.mjs'),
      logLevel: 'warn',
      server: { host: '127.0.0.1', port: 0, strictPort: false },
    });
    await server.listen();
    vite = server;
  }, 60_000);

  afterAll(async () => {
    await vite?.close();
    if (app) rmSync(app, { recursive: true, force: true });
  });

  it('`npx vite`: two module workers, the consumer loop, 2000 records, none dropped', async () => {
    const url = vite!.resolvedUrls!.local[0]!;
    const { page, errors } = await openPage(chromium.get(), url);
    const log = await quickStartLog(page, errors);
    expect(log).toMatch(/^(alpha|beta) says hello #0$/m);
    expect(log).toContain('received 2000 records; dropped 0');
    expect(await page.evaluate(() => globalThis.crossOriginIsolated)).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  });
});
