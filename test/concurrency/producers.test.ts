// Real worker_threads producers, one consumer on this thread, and a seeded
// checker that looks at every record: producer id, per-producer sequence,
// length and checksum. Nothing may be lost, duplicated, torn or reordered
// within a producer, and every refusal must be counted exactly once.
import { describe, expect, it } from 'vitest';
import { BPF_RB_AVAIL_DATA, BPF_RB_NO_WAKEUP, BPF_RB_PROD_POS, RingBuffer, RingBufferConsumer } from 'wasm-ringbuf';
import { SequenceVerifier } from '../helpers/sequence.mjs';
import { scaled, seedFor, startProducers, type ProducerOptions } from '../helpers/workers.js';

interface Run extends Omit<ProducerOptions, 'seed'> {
  name: string;
  producers: number;
  size: number;
  claim?: 'lock' | 'cas';
  position?: number;
  /** Consumer sleeps in poll(-1) between records; a watchdog fails the test if a wakeup is lost. */
  pollForever?: boolean;
  pollTimeout?: number;
}

/** Fails the test if `p` has not settled within `ms`: a watchdog against hangs, not a wait. */
function watchdog<T>(p: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(what())), ms))),
  ]);
}

async function run(cfg: Run) {
  const seed = seedFor(cfg.name);
  const rb = await RingBuffer.create({ size: cfg.size, claim: cfg.claim ?? 'lock', position: cfg.position ?? 0 });
  const start = rb.query(BPF_RB_PROD_POS);
  const { producers, go } = startProducers(rb.handle, cfg.producers, { ...cfg, seed });
  const ids = await Promise.all(producers.map((p) => p.ready));
  const verifier = new SequenceVerifier(seed, ids, cfg.min, cfg.max);
  let trailingLost = -1;
  const consumer = new RingBufferConsumer().addRaw(rb, (bytes, offset, length, lost) => {
    if (length === 0) trailingLost = lost; // the end marker written below
    else verifier.check(bytes, offset, length, lost);
  });
  let finished = false;
  const results = Promise.all(producers.map((p) => p.done)).finally(() => (finished = true));
  const expected = cfg.retry === false ? Infinity : cfg.producers * cfg.count;
  go();
  let polls = 0;
  if (cfg.pollForever) {
    while (verifier.records < expected && verifier.errors.length === 0) {
      polls++;
      await watchdog(consumer.poll(-1), 10_000, () =>
        `lost wakeup: consumer asleep for 10 s with ${rb.query(BPF_RB_AVAIL_DATA)} bytes waiting after ${verifier.records} records [seed ${seed}]`);
    }
  } else {
    while (!finished && verifier.errors.length === 0) {
      polls++;
      await consumer.poll(cfg.pollTimeout ?? 100);
    }
  }
  const done = await results;
  // an end marker carries the count of refusals after the producers' last records
  expect(rb.output(new Uint8Array(0))).toBe(true);
  consumer.consume();
  await Promise.all(producers.map((p) => p.worker.terminate()));
  expect(verifier.errors).toEqual([]);
  const produced = done.reduce((s, r) => s + r.produced, 0);
  const dropped = done.reduce((s, r) => s + r.dropped, 0);
  for (const r of done) expect(verifier.next.get(r.id), `producer ${r.id}`).toBe(r.produced);
  expect(verifier.records).toBe(produced);
  expect(rb.stats().dropped).toBe(dropped);
  expect(verifier.lost + trailingLost).toBe(dropped);
  expect(rb.query(BPF_RB_AVAIL_DATA)).toBe(0);
  const laps = (rb.query(BPF_RB_PROD_POS) - start) / cfg.size;
  return { produced, dropped, laps, polls, stats: rb.stats(), seed };
}

const RECORDS = scaled(240_000);

describe('producers in worker threads', () => {
  for (const producers of [1, 2, 4]) {
    it(`${producers} producer(s), ${RECORDS} records, every record checked`, async () => {
      const r = await run({ name: `p${producers}`, producers, size: 16384, count: RECORDS / producers, min: 12, max: 300, api: 'raw' });
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
    const r = await run({ name: 'drop', producers: 3, size: 4096, count: scaled(60_000), min: 12, max: 600, api: 'raw', retry: false });
    expect(r.dropped).toBeGreaterThan(0);
    expect(r.produced).toBeGreaterThan(0);
    expect(r.produced + r.dropped).toBe(3 * scaled(60_000));
  });

  it('positions past 2^32 with two producers', async () => {
    const position = 2 ** 32 - 64 * 1024;
    const r = await run({ name: 'pos32', producers: 2, size: 4096, count: scaled(20_000), min: 12, max: 100, api: 'raw', position });
    expect(position + r.laps * 4096).toBeGreaterThan(2 ** 32);
  });

  it('NO_WAKEUP producers and a consumer that polls with a timeout', async () => {
    const r = await run({ name: 'nowake', producers: 2, size: 16384, count: scaled(40_000), min: 12, max: 64, api: 'raw', flags: BPF_RB_NO_WAKEUP, pollTimeout: 1 });
    expect(r.stats.wakeups).toBe(0);
  });

  it('lock-free claim mode with 2 and 4 producers', async () => {
    for (const producers of [2, 4]) {
      const r = await run({ name: `cas${producers}`, producers, size: 16384, claim: 'cas', count: scaled(80_000) / producers, min: 12, max: 300, api: 'raw' });
      expect(r.produced).toBe(scaled(80_000));
    }
  });
});

describe('wakeups', () => {
  it('a consumer asleep in poll(-1) is never left asleep while records wait, over thousands of sleep/wake cycles', async () => {
    const r = await run({ name: 'wake', producers: 2, size: 16384, count: scaled(12_000), min: 12, max: 64, api: 'raw', burst: 5, pollForever: true });
    expect(r.produced).toBe(2 * scaled(12_000));
    // each wakeup is one sleep ended by a producer; the watchdog never fired
    expect(r.stats.wakeups).toBeGreaterThan(1000);
    expect(r.polls).toBeGreaterThan(1000);
  });
});
