// Real worker_threads producers, one consumer on this thread, and a seeded
// checker that looks at every record: producer id, per-producer sequence,
// length and checksum. Nothing may be lost, duplicated, torn or reordered
// within a producer, and every refusal must be counted exactly once.
import { describe, expect, it } from 'vitest';
import { BPF_RB_FORCE_WAKEUP, BPF_RB_NO_WAKEUP } from 'wasm-ringbuf';
import { run } from '../helpers/run.js';
import { scaled } from '../helpers/workers.js';

const RECORDS = scaled(240_000);

describe('producers in worker threads', () => {
  for (const producers of [1, 2, 4]) {
    it(`${producers} producer(s), ${RECORDS} records, every record checked`, async () => {
      const r = await run({
        name: `p${producers}`,
        producers,
        size: 16384,
        count: RECORDS / producers,
        min: 12,
        max: 300,
        api: 'raw',
      });
      expect(r.produced).toBe(RECORDS);
      expect(r.laps).toBeGreaterThan(1000);
    });
  }

  it('the object API and output() from two producers', async () => {
    for (const api of ['object', 'output'] as const) {
      const r = await run({ name: api, producers: 2, size: 8192, count: scaled(30_000), min: 12, max: 200, api });
      expect(r.produced).toBe(2 * scaled(30_000));
    }
  });

  it('drops: refused records are counted by the ring, by the producers and in the stream, exactly', async () => {
    const r = await run({
      name: 'drop',
      producers: 3,
      size: 4096,
      count: scaled(60_000),
      min: 12,
      max: 600,
      api: 'raw',
      retry: false,
    });
    expect(r.dropped).toBeGreaterThan(0);
    expect(r.produced).toBeGreaterThan(0);
    expect(r.produced + r.dropped).toBe(3 * scaled(60_000));
  });

  it('positions past 2^32 with two producers', async () => {
    const position = 2 ** 32 - 64 * 1024;
    const r = await run({
      name: 'pos32',
      producers: 2,
      size: 4096,
      count: scaled(20_000),
      min: 12,
      max: 100,
      api: 'raw',
      position,
    });
    expect(position + r.laps * 4096).toBeGreaterThan(2 ** 32);
  });

  it('NO_WAKEUP producers and a consumer that polls with a timeout', async () => {
    const r = await run({
      name: 'nowake',
      producers: 2,
      size: 16384,
      count: scaled(40_000),
      min: 12,
      max: 64,
      api: 'raw',
      flags: BPF_RB_NO_WAKEUP,
      pollTimeout: 1,
    });
    expect(r.stats.wakeups).toBe(0);
  });
});

describe('output() on a single-producer ring: the payload first, then one wasm call', () => {
  it('a worker writing with output() across many laps, every record checked', async () => {
    const r = await run({
      name: 'single',
      producers: 1,
      singleProducer: true,
      size: 4096,
      count: scaled(60_000),
      min: 12,
      max: 300,
      api: 'output',
    });
    expect(r.produced).toBe(scaled(60_000));
    expect(r.laps).toBeGreaterThan(500);
  });

  it("positions past 2^31 and 2^32: the producer's look at the room uses the low words", async () => {
    const position = 2 ** 31 - 64 * 1024;
    const r = await run({
      name: 'single-pos32',
      producers: 1,
      singleProducer: true,
      size: 4096,
      count: scaled(60_000),
      min: 12,
      max: 100,
      api: 'output',
      position: position + 2 ** 31,
    });
    expect(r.produced).toBe(scaled(60_000));
    expect(position + 2 ** 31 + r.laps * 4096).toBeGreaterThan(2 ** 32);
    const low = await run({
      name: 'single-pos31',
      producers: 1,
      singleProducer: true,
      size: 4096,
      count: scaled(60_000),
      min: 12,
      max: 100,
      api: 'output',
      position,
    });
    expect(position + low.laps * 4096).toBeGreaterThan(2 ** 31);
  });

  it('refusals are counted by the ring, by the producer and in the stream, exactly', async () => {
    const r = await run({
      name: 'single-drop',
      producers: 1,
      singleProducer: true,
      size: 4096,
      count: scaled(60_000),
      min: 12,
      max: 600,
      api: 'output',
      retry: false,
    });
    expect(r.dropped).toBeGreaterThan(0);
    expect(r.produced + r.dropped).toBe(scaled(60_000));
  });

  it('a consumer asleep in poll(-1) is woken by records born committed, over thousands of sleep/wake cycles', async () => {
    const r = await run({
      name: 'single-wake',
      producers: 1,
      singleProducer: true,
      size: 16384,
      count: scaled(12_000),
      min: 12,
      max: 64,
      api: 'output',
      burst: 5,
      pollForever: true,
      napMs: 0,
    });
    expect(r.produced).toBe(scaled(12_000));
    expect(r.stats.wakeups).toBeGreaterThan(500);
    expect(r.polls).toBeGreaterThan(500);
  });

  it('FORCE every few records while the consumer naps and arms (the default budget)', async () => {
    const r = await run({
      name: 'single-force',
      producers: 1,
      singleProducer: true,
      size: 16384,
      count: scaled(12_000),
      min: 12,
      max: 64,
      api: 'output',
      burst: 3,
      flags: BPF_RB_FORCE_WAKEUP,
      pollForever: true,
    });
    expect(r.produced).toBe(scaled(12_000));
    expect(r.stats.wakeups).toBeGreaterThan(100);
  });
});

describe('wakeups', () => {
  it("a consumer asleep in poll(-1) is never left asleep while records wait, over thousands of sleep/wake cycles (napMs 0: the kernel's rule)", async () => {
    const r = await run({
      name: 'wake',
      producers: 2,
      size: 16384,
      count: scaled(12_000),
      min: 12,
      max: 64,
      api: 'raw',
      burst: 5,
      pollForever: true,
      napMs: 0,
    });
    expect(r.produced).toBe(2 * scaled(12_000));
    // each wakeup is one sleep ended by a producer; the watchdog never fired
    expect(r.stats.wakeups).toBeGreaterThan(1000);
    expect(r.polls).toBeGreaterThan(1000);
  });
});
