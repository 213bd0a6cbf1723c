// Cross-origin isolation: shared memory is there with COOP/COEP, and a page
// served without them gets an error that names both headers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHarness, openPage, serve, useChromium, type Served } from './browser.js';

const chromium = useChromium();
let isolated: Served;
let plain: Served;

beforeAll(async () => {
  isolated = await serve();
  plain = await serve({ isolated: false });
});

afterAll(async () => {
  await isolated?.close();
  await plain?.close();
});

describe('cross-origin isolation', () => {
  it('the server sends COOP and COEP, and the page is cross-origin isolated', async () => {
    const res = await fetch(`${isolated.url}test/browser/fixtures/harness.html`);
    expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(res.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    const { page, errors } = await openHarness(chromium.get(), isolated);
    expect(await page.evaluate(() => globalThis.crossOriginIsolated)).toBe(true);
    expect(await page.evaluate(() => harness.tryCreate())).toEqual({ ok: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('without the headers, RingBuffer.create() rejects with ERR_RINGBUF_NOT_ISOLATED naming both headers', async () => {
    const { page } = await openHarness(chromium.get(), plain);
    expect(await page.evaluate(() => globalThis.crossOriginIsolated)).toBe(false);
    const result = await page.evaluate(() => harness.tryCreate());
    expect(result).toMatchObject({ ok: false, name: 'RingBufferStateError', code: 'ERR_RINGBUF_NOT_ISOLATED' });
    expect(result.message).toContain('Cross-Origin-Opener-Policy: same-origin');
    expect(result.message).toContain('Cross-Origin-Embedder-Policy: require-corp');
    await page.close();
  });

  it('without the headers, the demo page says which two headers it needs', async () => {
    const { page } = await openPage(chromium.get(), `${plain.url}examples/browser/`);
    await page.waitForFunction(() => demo.error !== null, null, { timeout: 15_000 });
    expect(await page.evaluate(() => demo.error)).toContain('ERR_RINGBUF_NOT_ISOLATED');
    const shown = await page.locator('#error').innerText();
    expect(shown).toContain('not cross-origin isolated');
    expect(shown).toContain('Cross-Origin-Opener-Policy: same-origin');
    expect(shown).toContain('Cross-Origin-Embedder-Policy: require-corp');
    expect(await page.locator('#error').isVisible()).toBe(true);
    await page.close();
  });
});
