// Many rings, one consumer: N producer workers sharded over K rings, one
// FairConsumer on this thread that sleeps on every ring at once, and one
// producer that floods its ring while the consumer is kept slower than it.
import { describe, expect, it } from 'vitest';
import { FairConsumer, ShardedRings } from 'wasm-ringbuf';
import { watchdog } from '../helpers/run.js';
import { scaled } from '../helpers/workers.js';
import { startWorkers } from './workers.js';

interface Done {
  index: number;
  dropped: number;
}

/** Burns about `us` microseconds: a consumer slower than the flooding producer. */
function work(us: number): void {
  const end = performance.now() + us / 1000;
  while (performance.now() < end);
}

describe('sharded rings', () => {
  it('N = 5 producers over K = 3 rings: a consumer asleep in poll(-1) wakes on any ring and gets every record once', async () => {
    const shards = await ShardedRings.create({ rings: 3, size: 8192 });
    const count = scaled(3_000);
    const progress = new SharedArrayBuffer(4);
    const w = startWorkers<Done>(
      'shard-producer.mjs',
      [0, 1, 2, 3, 4].map((index) => ({
        handle: shards.handle,
        index,
        progress,
        count,
        burst: 3 + index,
        pauseMs: 0.3,
      })),
    );
    try {
      await watchdog(w.ready, 20_000, () => 'producers did not start');
      const next = [0, 0, 0, 0, 0];
      const errors: string[] = [];
      let records = 0;
      const consumer = shards.consumerRaw(
        (bytes, offset, _length, _lost, shard) => {
          const dv = new DataView(bytes.buffer);
          const index = dv.getUint32(offset, true);
          const seq = dv.getUint32(offset + 4, true);
          if ((seq !== next[index] || index % 3 !== shard) && errors.length < 5)
            errors.push(`producer ${index} seq ${seq} on shard ${shard}, ${next[index]} due`);
          next[index] = seq + 1;
          records++;
        },
        { napMs: 0 },
      ); // arm after every pass: this test counts sleeps and wakeups
      w.go();
      let polls = 0;
      while (records < 5 * count && errors.length === 0) {
        polls++;
        await watchdog(consumer.poll(-1), 10_000, () => `lost wakeup after ${records} records`);
      }
      await watchdog(w.done, 20_000, () => 'producers did not finish');
      expect(errors).toEqual([]);
      expect(next).toEqual([count, count, count, count, count]);
      expect(polls).toBeGreaterThan(100); // it slept and was woken, many times
      expect(shards.rings.reduce((s, r) => s + r.stats().wakeups, 0)).toBeGreaterThan(100);
    } finally {
      await w.terminate();
    }
  });

  it("fairness: a flooding producer does not delay another ring's records by more than a few turns", async () => {
    const shards = await ShardedRings.create({ rings: 2, size: 16384 });
    const progress = new SharedArrayBuffer(8);
    // [0]: flood records delivered so far; [1]: poll() calls begun and ended (two per call); both read by the producers
    const seen = new Int32Array(progress);
    const slow = scaled(400);
    const late = new Uint8Array(new SharedArrayBuffer(slow)); // set by the slow producer: stamp and commit were far apart
    const w = startWorkers<Done>('shard-producer.mjs', [
      { handle: shards.handle, index: 0, progress, count: 1e9 }, // floods ring 0 until terminated
      { handle: shards.handle, index: 1, progress, count: slow, burst: 1, pauseMs: 1, late: late.buffer }, // ring 1, a record a millisecond
    ]);
    const B = 64;
    const quantum = 16;
    try {
      await watchdog(w.ready, 20_000, () => 'producers did not start');
      let flood = 0;
      let received = 0;
      const delays: { seq: number; delay: number; acrossPoll: boolean }[] = [];
      let backlog = 0;
      // napMs 0: the bound below is for a consumer that arms between passes; a nap lets the flooding
      // ring hold up to a quarter ring more when the next pass begins (src/fair.ts)
      const consumer = new FairConsumer({ quantum, napMs: 0 })
        .addRaw(shards.rings[0]!, () => {
          work(2); // slower than the producer: ring 0 never runs dry
          Atomics.store(seen, 0, ++flood);
        })
        .addRaw(shards.rings[1]!, (bytes, offset) => {
          // flood records delivered between this record's commit and its delivery
          const dv = new DataView(bytes.buffer);
          const acrossPoll = dv.getUint32(offset + 12, true) !== Atomics.load(seen, 1);
          delays.push({
            seq: dv.getUint32(offset + 4, true),
            delay: flood - dv.getUint32(offset + 8, true),
            acrossPoll,
          });
          received++;
        });
      w.go();
      const deadline = performance.now() + 30_000;
      while (received < slow && performance.now() < deadline) {
        if (consumer.consumeN(B) === 0) {
          Atomics.add(seen, 1, 1);
          await consumer.poll(10);
          Atomics.add(seen, 1, 1);
        }
        backlog = Math.max(backlog, shards.rings[0]!.query(0));
      }
      expect(received).toBe(slow);
      expect(backlog).toBeGreaterThan(8192); // the flood did keep its ring full
      // Between consumeN() calls: at most the rest of one call and one turn
      // of the next, B + quantum (+ the record in flight). A poll() pass (when
      // ring 0 ran dry for a moment: its producer was descheduled) stops each
      // ring where it stood when the pass began, so a record committed during
      // one may wait for the rest of the flooding ring's snapshot: at most a
      // ring of flood records more. A producer descheduled between reading the
      // count and committing adds to the delay it measures: such records are
      // marked late and left out, and each bound is asserted on 95% of the
      // others. Without fairness every record would wait until the flood ends.
      const floodRing = Math.floor(shards.rings[0]!.size / 24); // 16-byte records, 24 bytes each in the ring
      const p95 = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length * 0.95)]!;
      const timely = delays.filter((d) => Atomics.load(late, d.seq) === 0);
      const between = timely.filter((d) => !d.acrossPoll).map((d) => d.delay);
      expect(between.length).toBeGreaterThan(slow / 4);
      expect(p95(between)).toBeLessThanOrEqual(B + quantum + 1);
      expect(p95(timely.map((d) => d.delay))).toBeLessThanOrEqual(floodRing + B + quantum + 1);
    } finally {
      await w.terminate();
    }
  });
});
