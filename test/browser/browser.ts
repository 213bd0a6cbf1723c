// Shared by the browser suite: the static server of examples/browser and a
// headless Chromium driven by playwright-core. Chromium is required, not
// optional: without it these tests fail and say how to install it.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type ConsoleMessage, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { DEFAULT_PREFIXES, startServer } from '../../examples/browser/serve.mjs';

import { CHROMIUM, CHROMIUM_ARGS } from '../../scripts/browsers.mjs';

export { CHROMIUM, CHROMIUM_ARGS };

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `The browser suite needs Chromium at ${CHROMIUM} and it is not there. Install it with ` +
        '`apt-get install -y --no-install-recommends chromium` (.ci/run does), or set CHROMIUM_PATH to a ' +
        'Chromium or Chrome binary. To run the other suites alone: `npx vitest run --exclude "test/browser/**"`.',
    );
  }
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
}

/**
 * Launches Chromium for the calling test file and closes it after. A launch
 * failure (Chromium missing) is thrown by `get()` inside each test, so every
 * test fails with the reason: a failing hook would only mark them skipped.
 */
export function useChromium(): { get(): Browser; ok(): boolean } {
  let browser: Browser | undefined;
  let error: unknown;
  beforeAll(async () => {
    try {
      browser = await launchChromium();
    } catch (err) {
      error = err;
    }
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });
  return {
    get() {
      if (browser === undefined) throw error ?? new Error('Chromium was not launched');
      return browser;
    },
    ok: () => browser !== undefined,
  };
}

/** Starts the demo server (cross-origin isolated) before this file's tests and stops it after. */
export function useServer(): { get(): Served } {
  let served: Served | undefined;
  beforeAll(async () => {
    served = await serve();
  });
  afterAll(async () => {
    await served?.close();
  });
  return {
    get() {
      if (served === undefined) throw new Error('the demo server did not start');
      return served;
    },
  };
}

export interface Served {
  url: string;
  close(): Promise<void>;
}

/** The demo's server plus the suite's fixtures, on an ephemeral port of 127.0.0.1. */
export function serve(options: { isolated?: boolean } = {}): Promise<Served> {
  return startServer({
    port: 0,
    isolated: options.isolated ?? true,
    prefixes: [...DEFAULT_PREFIXES, '/test/browser/fixtures/', '/test/helpers/'],
  });
}

/** A page that records its uncaught errors and console errors, to put in failure messages. */
export async function openPage(
  browser: Browser,
  url: string,
  viewport = { width: 1280, height: 720 },
): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport });
  page.setDefaultTimeout(30_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m: ConsoleMessage) => {
    // a failed load is reported below, with its URL
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource'))
      errors.push(`console.error: ${m.text()}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) errors.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  await page.goto(url);
  return { page, errors };
}

/** Opens the suite's harness page and waits (bounded) for its module to load. */
export async function openHarness(browser: Browser, served: Served): Promise<{ page: Page; errors: string[] }> {
  const opened = await openPage(browser, `${served.url}test/browser/fixtures/harness.html`);
  await opened.page
    .waitForFunction(() => (globalThis as { harnessReady?: boolean }).harnessReady === true, null, { timeout: 15_000 })
    .catch((err: Error) => {
      throw new Error(`the harness page did not load: ${err.message}\n${opened.errors.join('\n')}`);
    });
  return opened;
}

/**
 * Starts `node serve.mjs` (a plain static server with the isolation headers,
 * examples/browser/no-bundler/serve.mjs) in `cwd` on a free port; resolves
 * with its URL and the process, which the caller kills.
 */
export function spawnStaticServer(cwd: string): Promise<{ url: string; server: ChildProcess }> {
  const server = spawn(process.execPath, ['serve.mjs'], {
    cwd,
    env: { ...process.env, PORT: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    server.once('exit', (code) => reject(new Error(`serve.mjs exited with code ${code}`)));
    server.stdout!.on('data', (chunk: Buffer) => {
      const m = /http:\/\/127\.0\.0\.1:\d+\//.exec(chunk.toString());
      if (m) resolve({ url: m[0], server });
    });
  });
}

/**
 * A site in a temporary folder, served by its own serve.mjs: `populate(dir)`
 * lays it out in `dir` and returns the folder to serve (which holds
 * serve.mjs). Started before this file's tests; stopped and removed after.
 */
export function useStaticSite(
  prefix: string,
  populate: (dir: string) => string | Promise<string>,
  timeoutMs = 30_000,
): { url(): string; dir(): string } {
  let dir: string | undefined;
  let server: ChildProcess | undefined;
  let url: string | undefined;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), prefix));
    ({ url, server } = await spawnStaticServer(await populate(dir)));
  }, timeoutMs);
  afterAll(() => {
    server?.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const started = (value: string | undefined): string => {
    if (value === undefined) throw new Error('the static site did not start');
    return value;
  };
  return { url: () => started(url), dir: () => started(dir) };
}

/**
 * Waits for the browser quick start's result line in #log (examples/browser/quickstart
 * and no-bundler print "received N records; dropped D") and returns the log;
 * fails with the log and the page's errors when it never comes.
 */
export async function quickStartLog(page: Page, errors: string[]): Promise<string> {
  await page
    .waitForFunction(() => document.querySelector('#log')?.textContent?.includes('received'), null, { timeout: 30_000 })
    .catch(async (err: Error) => {
      throw new Error(
        `the page printed no result: ${err.message}\nlog: ${await page
          .locator('#log')
          .innerText()
          .catch(() => '?')}\n${errors.join('\n')}`,
      );
    });
  return page.locator('#log').innerText();
}
