// The iterators, the WHATWG streams and the text codec in Chromium: a
// ReadableStream read on the page's main thread from module Web Worker
// producers, a WritableStream on the page whose backpressure is the ring's
// room (a slow worker consumer), the signal and return() on a page, and text
// through shared memory where TextDecoder refuses shared views.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openPage, useChromium, useServer } from './browser.js';

const chromium = useChromium();
const server = useServer();

describe('streams and codecs in Chromium', () => {
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    if (!chromium.ok()) return; // each test then fails, saying why
    ({ page, errors } = await openPage(chromium.get(), `${server.get().url}test/browser/fixtures/streams.html`));
    await page
      .waitForFunction(() => (globalThis as { streamsReady?: boolean }).streamsReady === true, null, {
        timeout: 15_000,
      })
      .catch((err: Error) => {
        throw new Error(`the streams page did not load: ${err.message}\n${errors.join('\n')}`);
      });
  });

  afterAll(async () => {
    await page?.close();
  });

  it('text round-trips through shared memory although TextDecoder refuses shared views here', async () => {
    chromium.get();
    expect(await page.evaluate(() => streams.codec())).toEqual({ decoderRefusesShared: true, roundTrip: true });
  });

  it('a ReadableStream on the page reads every JSON line of two module workers, in order, and closes with until', async () => {
    chromium.get();
    const r = await page.evaluate((o) => streams.readable(o), { producers: 2, count: 10_000, size: 1 << 14 });
    expect(r).toMatchObject({ lines: 20_000, errors: 0, next: [10_000, 10_000], released: true });
    expect(r.laps).toBeGreaterThan(20);
  });

  it('a WritableStream on the page waits for room while a slow worker consumes: nothing dropped, the page stays responsive', async () => {
    chromium.get();
    const r = await page.evaluate((o) => streams.writable(o), { count: 3000, size: 4096 });
    expect(r).toMatchObject({ received: 3000, errors: 0, dropped: 0 });
    expect(r.roomWaits).toBeGreaterThan(0);
    expect(r.ticks).toBeGreaterThan(0);
  });

  it('readRecords on the page: the signal ends a pending read, return() another; both release the ring', async () => {
    chromium.get();
    expect(await page.evaluate(() => streams.iterator())).toEqual({
      first: 'first',
      aborted: 'AbortError',
      afterAbort: true,
      ended: true,
      afterReturn: true,
    });
    expect(errors).toEqual([]);
  });
});
