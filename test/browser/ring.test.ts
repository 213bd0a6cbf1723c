// The package in a real Chromium: module Web Workers produce into one ring,
// the page's main thread consumes with `await consumer.poll()` and checks
// every record; the wakeup flags hold, with Atomics.waitAsync and with the
// helper-worker fallback that stands in for it where a browser lacks it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { BPF_RB_FORCE_WAKEUP, BPF_RB_NO_WAKEUP } from 'wasm-ringbuf';
import { openHarness, useChromium, useServer } from './browser.js';

const chromium = useChromium();
const server = useServer();

const SEED = Number(process.env.SEED ?? 0x5eed);

for (const mode of ['Atomics.waitAsync', 'fallback: no Atomics.waitAsync'] as const) {
  describe(`in Chromium, ${mode}`, () => {
    let page: Page;
    let errors: string[];

    beforeAll(async () => {
      if (!chromium.ok()) return; // each test then fails, saying why
      ({ page, errors } = await openHarness(chromium.get(), server.get()));
      if (mode !== 'Atomics.waitAsync') {
        expect(await page.evaluate(() => harness.hideWaitAsync())).toBe('undefined');
      }
    });

    afterAll(async () => {
      await page?.evaluate(() => harness.close()).catch(() => {});
      await page?.close();
    });

    it('the page is cross-origin isolated, and waitAsync is there or hidden as asked', async () => {
      chromium.get();
      expect(await page.evaluate(() => harness.isolated())).toBe(true);
      expect(await page.evaluate(() => harness.hasWaitAsync())).toBe(mode === 'Atomics.waitAsync');
    });

    it('two module workers and the main thread produce; every record is checked on the main thread', async () => {
      chromium.get();
      const ids = await page.evaluate(() => harness.setup({ size: 1 << 16, producers: 2 }));
      expect(ids.workers).toHaveLength(2);
      expect(new Set([ids.main, ...ids.workers]).size).toBe(3);
      const count = 30_000;
      const mainCount = 3_000;
      const run = await page.evaluate((o) => harness.runVerified(o), {
        seed: SEED,
        count,
        mainCount,
        min: 12,
        max: 240,
        flags: 0,
      });
      expect(run.errors, `seed ${SEED}`).toEqual([]);
      expect(run.records).toBe(2 * count + mainCount);
      for (const p of run.produced) expect(run.next[p.id], `producer ${p.id}`).toBe(count);
      expect(run.next[run.mainId]).toBe(mainCount);
      // every refusal (a full ring, retried) counted once, and reported to the consumer as `lost`
      const refused = run.produced.reduce((s, p) => s + p.dropped, 0) + run.mainDropped;
      expect(run.stats.dropped).toBe(refused);
      expect(run.lostReported).toBe(refused);
      expect(run.avail).toBe(0);
      expect(run.laps, 'times the 64 KiB ring wrapped').toBeGreaterThan(50);
      if (mode !== 'Atomics.waitAsync') expect(await page.evaluate(() => harness.helperWorkers())).toBeGreaterThan(0);
      expect(errors).toEqual([]);
    });

    it('BPF_RB_NO_WAKEUP leaves poll() asleep; BPF_RB_FORCE_WAKEUP wakes it', async () => {
      chromium.get();
      await page.evaluate(() => harness.setup({ size: 1 << 16, producers: 2 }));
      expect(await page.evaluate(() => harness.freshConsumer())).toBe(0);
      const armed = await page.evaluate(() => harness.startPoll(-1));
      expect(armed).toMatchObject({ settled: false, wakeups: 0, avail: 0 });

      // 200 records from two workers, all committed (each worker replies after its last commit)
      await page.evaluate(
        (f) => Promise.all([harness.produce(0, 100, f), harness.produce(1, 100, f)]),
        BPF_RB_NO_WAKEUP,
      );
      const asleep = await page.evaluate(() => harness.state());
      // No wakeup was sent (the ring counts each one before it notifies), the records wait
      // unread, and the poll is still pending. Nothing here sleeps to let a wakeup arrive:
      // the counter would already say so.
      expect(asleep.wakeups).toBe(0);
      expect(asleep.avail).toBeGreaterThan(0);
      expect(asleep.settled).toBe(false);

      await page.evaluate((f) => harness.produce(0, 1, f), BPF_RB_FORCE_WAKEUP);
      const woken = await page.evaluate(() => harness.awaitPoll(10_000));
      expect(woken).toMatchObject({ settled: true, result: 201, wakeups: 1, avail: 0 });
    });

    it('adaptive (flags 0): a record at the consumer position wakes it, one behind it does not', async () => {
      chromium.get();
      await page.evaluate(() => harness.setup({ size: 1 << 16, producers: 1 }));
      expect(await page.evaluate(() => harness.freshConsumer())).toBe(0);

      // caught up and asleep: the first record is the one it waits at
      await page.evaluate(() => harness.startPoll(-1));
      await page.evaluate(() => harness.produce(0, 1, 0));
      expect(await page.evaluate(() => harness.awaitPoll(10_000))).toMatchObject({ result: 1, wakeups: 1 });

      // a NO_WAKEUP record first: the adaptive one after it is behind the consumer position
      await page.evaluate(() => harness.startPoll(-1));
      await page.evaluate((f) => harness.produce(0, 1, f), BPF_RB_NO_WAKEUP);
      await page.evaluate(() => harness.produce(0, 5, 0));
      expect(await page.evaluate(() => harness.state())).toMatchObject({ settled: false, wakeups: 1 });

      await page.evaluate((f) => harness.produce(0, 1, f), BPF_RB_FORCE_WAKEUP);
      expect(await page.evaluate(() => harness.awaitPoll(10_000))).toMatchObject({ result: 7, wakeups: 2, avail: 0 });
    });

    it('close() makes a pending poll(-1) return, and an AbortSignal ends one', async () => {
      chromium.get();
      await page.evaluate(() => harness.setup({ size: 1 << 16, producers: 1 }));
      expect(await page.evaluate(() => harness.freshConsumer())).toBe(0);
      expect(await page.evaluate(() => harness.startPoll(-1))).toMatchObject({ settled: false });
      await page.evaluate(() => harness.closeConsumer());
      expect(await page.evaluate(() => harness.awaitPoll(10_000))).toMatchObject({ result: 0, wakeups: 0 });
      // the ring is free for a new consumer, which sleeps and wakes as before
      await page.evaluate(() => harness.freshConsumer());
      expect(await page.evaluate(() => harness.abortedPoll())).toEqual({ error: 'AbortError' });
      await page.evaluate(() => harness.startPoll(-1));
      await page.evaluate((f) => harness.produce(0, 1, f), BPF_RB_FORCE_WAKEUP);
      expect(await page.evaluate(() => harness.awaitPoll(10_000))).toMatchObject({ result: 1, wakeups: 1 });
    });

    it("pollSync() on the page's main thread is a typed error that leaves WAIT alone", async () => {
      chromium.get();
      await page.evaluate(() => harness.setup({ size: 1 << 16, producers: 1 }));
      await page.evaluate(() => harness.freshConsumer());
      const r = await page.evaluate(() => harness.pollSyncOnPage());
      expect(r.error).toMatchObject({ name: 'RingBufferStateError', code: 'ERR_RINGBUF_CANNOT_BLOCK' });
      expect(r.error!.message).toMatch(/use await poll\(\)/);
      expect(r.wait).toBe(0);
    });

    it('poll(timeout) with nothing to read resolves to 0 once the timeout has passed', async () => {
      chromium.get();
      await page.evaluate(() => harness.setup({ size: 1 << 16, producers: 1 }));
      await page.evaluate(() => harness.freshConsumer());
      const t0 = Date.now();
      await page.evaluate(() => harness.startPoll(200));
      expect(await page.evaluate(() => harness.awaitPoll(10_000))).toMatchObject({ result: 0, wakeups: 0 });
      expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
      expect(errors).toEqual([]);
    });
  });
}
