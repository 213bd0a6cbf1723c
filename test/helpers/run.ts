// The stress run shared by the concurrency suites: real producer workers,
// this thread as the consumer, and a checker that looks at every record.
import { expect } from 'vitest';
import { BPF_RB_AVAIL_DATA, BPF_RB_PROD_POS, RingBuffer, RingBufferConsumer } from 'wasm-ringbuf';
import { SequenceVerifier } from './sequence.mjs';
import { seedFor, startProducers, type ProducerOptions } from './workers.js';

export interface Run extends Omit<ProducerOptions, 'seed'> {
  name: string;
  producers: number;
  size: number;
  /** A single-producer ring (`cfg.producers` must be 1). */
  singleProducer?: boolean;
  position?: number;
  /** Consumer sleeps in poll(-1) between records; a watchdog fails the test if a wakeup is lost. */
  pollForever?: boolean;
  pollTimeout?: number;
  /** The consumer's wakeup moderation budget (default: the library's). */
  napMs?: number;
}

/** Reads every record now in `rb` with a consumer of its own, which it closes: each record's bytes. */
export function drain(rb: RingBuffer): number[][] {
  const got: number[][] = [];
  const c = new RingBufferConsumer(rb, (d) => void got.push([...d]));
  try {
    c.consume();
  } finally {
    c.close();
  }
  return got;
}

/** Fails the test if `p` has not settled within `ms`: a watchdog against hangs, not a wait. */
export function watchdog<T>(p: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(what())), ms))),
  ]);
}

/**
 * Runs `cfg.producers` workers to completion and checks everything: every
 * record intact and in per-producer order, the producers' own drop counts
 * equal to the ring's and to the gaps the consumer was told about.
 */
export async function run(cfg: Run) {
  const seed = seedFor(cfg.name);
  const rb = await RingBuffer.create({
    size: cfg.size,
    position: cfg.position ?? 0,
    singleProducer: cfg.singleProducer ?? false,
  });
  const start = rb.query(BPF_RB_PROD_POS);
  const { producers, go } = startProducers(rb.handle, cfg.producers, { ...cfg, seed });
  const ids = await Promise.all(producers.map((p) => p.ready));
  const verifier = new SequenceVerifier(seed, ids, cfg.min, cfg.max);
  let trailingLost = -1;
  const consumer = new RingBufferConsumer(
    undefined,
    undefined,
    cfg.napMs === undefined ? undefined : { napMs: cfg.napMs },
  ).addRaw(rb, (bytes, offset, length, lost) => {
    if (length === 0)
      trailingLost = lost; // the end marker written below
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
      await watchdog(
        consumer.poll(-1),
        10_000,
        () =>
          `lost wakeup: consumer asleep for 10 s with ${rb.query(BPF_RB_AVAIL_DATA)} bytes waiting after ${verifier.records} records [seed ${seed}]`,
      );
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
  consumer.close();
  expect(verifier.errors).toEqual([]);
  const produced = done.reduce((s, r) => s + r.produced, 0);
  const dropped = done.reduce((s, r) => s + r.dropped, 0);
  for (const r of done) {
    expect(verifier.next.get(r.id), `producer ${r.id}`).toBe(r.produced);
    expect(rb.producerStats(r.id).dropped, `producer ${r.id} drops`).toBe(r.dropped);
  }
  expect(verifier.records).toBe(produced);
  expect(rb.stats().dropped).toBe(dropped);
  expect(verifier.lost + trailingLost).toBe(dropped);
  expect(rb.query(BPF_RB_AVAIL_DATA)).toBe(0);
  const laps = (rb.query(BPF_RB_PROD_POS) - start) / cfg.size;
  return { produced, dropped, laps, polls, stats: rb.stats(), seed };
}
