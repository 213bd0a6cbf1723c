// Overwrite mode: the records a producer passes over are reported as `lost`
// with the record right after the gap, however long the producer takes over
// its move. A move is several stores under the producer lock (the
// CONSUMER_POS compare-and-swap, then OVERWRITTEN, then OVERWRITE_POS; see
// overwriteOldest() in assembly/ring.ts): a producer descheduled between them
// leaves the gap visible before its size is.
import { describe, expect, it } from 'vitest';
import { RingBuffer, RingBufferConsumer } from 'wasm-ringbuf';
import * as layout from '../../dist/layout.js';
import { HandedChecker, startSeqProducers, type Handed } from '../helpers/seq-producers.js';
import { scaled } from '../helpers/workers.js';
import { watchdog } from '../helpers/run.js';

const { LOCK_HELD, OFF_CONSUMER_POS, OFF_LOCK, OFF_OVERWRITE_POS, OFF_OVERWRITTEN } = layout;
/** The running total a mover stores first, before its CONSUMER_POS compare-and-swap (control offset 120, beside OVERWRITTEN). */
const OFF_MOVE_TOTAL = (layout as unknown as Record<string, number | undefined>).OFF_MOVE_TOTAL ?? 120;

const N = 20; // records in the ring
const LEN = 40; // each takes 48 bytes
const K = 5; // records the mover passes over

interface Got {
  i: number;
  lost: number;
}

/** A ring of N committed records 0..N-1 (the payload's first byte), and views on its control block. */
async function ringOfRecords() {
  const rb = await RingBuffer.create({ size: 4096, overwrite: true });
  for (let i = 0; i < N; i++) expect(rb.output(new Uint8Array(LEN).fill(i))).toBe(true);
  const mover = await RingBuffer.attach(rb.handle);
  const u64 = new BigInt64Array(rb.memory.buffer);
  const i32 = new Int32Array(rb.memory.buffer);
  const word = (off: number) => (rb.core.ctl + off) >> 3;
  const lock = (rb.core.ctl + OFF_LOCK) >> 2;
  const stride = (LEN + 15) & ~7;
  const start = Number(Atomics.load(u64, word(OFF_CONSUMER_POS)));
  const to = start + K * stride;
  const before = Atomics.load(u64, word(OFF_OVERWRITTEN));
  return {
    rb,
    /** The mover's first stores: it takes the lock, writes its running total, and moves CONSUMER_POS past K records. */
    tear() {
      Atomics.store(i32, lock, LOCK_HELD | mover.producerId);
      Atomics.store(u64, word(OFF_MOVE_TOTAL), before + BigInt(K));
      expect(Atomics.compareExchange(u64, word(OFF_CONSUMER_POS), BigInt(start), BigInt(to))).toBe(BigInt(start));
    },
    /** Its last stores: OVERWRITTEN, then OVERWRITE_POS, then the lock's release. */
    complete() {
      Atomics.store(u64, word(OFF_OVERWRITTEN), before + BigInt(K));
      Atomics.store(u64, word(OFF_OVERWRITE_POS), BigInt(to));
      Atomics.store(i32, lock, 0);
      Atomics.notify(i32, lock);
    },
  };
}

const expected: Got[] = Array.from({ length: N - K }, (_, j) => ({ i: K + j, lost: j === 0 ? K : 0 }));

describe('overwrite mode: a move caught between its stores', () => {
  it('a consumer reading during the move delivers nothing past the gap with a wrong count; once the move is complete, the record after the gap carries lost == K', async () => {
    const { rb, tear, complete } = await ringOfRecords();
    const got: Got[] = [];
    const consumer = new RingBufferConsumer(rb, (d, lost) => void got.push({ i: d[0]!, lost }));
    try {
      tear();
      consumer.consume(); // the move is half done: either nothing yet, or the gap with its right count
      const during = [...got];
      complete();
      consumer.consume();
      expect(got, `delivered during the move: ${JSON.stringify(during)}`).toEqual(expected);
      expect(rb.stats().overwritten).toBe(K);
    } finally {
      consumer.close();
    }
  });

  it('a consumer that starts during the move: its first record carries lost == K', async () => {
    const { rb, tear, complete } = await ringOfRecords();
    const got: Got[] = [];
    tear();
    const consumer = new RingBufferConsumer(rb, (d, lost) => void got.push({ i: d[0]!, lost }));
    try {
      consumer.consume();
      const during = [...got];
      complete();
      consumer.consume();
      expect(got, `delivered during the move: ${JSON.stringify(during)}`).toEqual(expected);
    } finally {
      consumer.close();
    }
  });

  const ITERATIONS = scaled(10);
  const COUNT = 20_000;
  it(`a worker producer and a consumer that falls behind: every record's lost equals the records missing right before it (${ITERATIONS} runs of ${COUNT} records)`, async () => {
    const [min, max] = [12, 120];
    for (let run = 0; run < ITERATIONS; run++) {
      const seed = (Date.now() + run * 7919) >>> 0;
      const rb = await RingBuffer.create({ size: 4096, overwrite: true });
      const { producers, go, stop } = startSeqProducers(rb.handle, 1, { seed, count: COUNT, min, max, mode: 'skip' });
      try {
        const ids = await Promise.all(producers.map((p) => p.ready));
        const checker = new HandedChecker(seed, ids, min, max, true);
        const consumer = new RingBufferConsumer().addRaw(rb, (bytes, offset, length, lost) => {
          const h: Handed = { bytes: bytes.slice(offset, offset + length), lost, reader: 1 };
          checker.check(h);
        });
        let finished = false;
        const done = producers[0]!.done.finally(() => (finished = true));
        go();
        await watchdog(
          (async () => {
            while (!finished && checker.errors.length === 0) {
              consumer.consumeN(16); // small sips: the producer passes over the consumer again and again
              await new Promise((resolve) => setImmediate(resolve));
            }
          })(),
          30_000,
          () => `run ${run}: the producer did not finish`,
        );
        const result = await done;
        expect(rb.output(new Uint8Array(0))).toBe(true); // an end marker carries the losses after the last record
        while (consumer.consume() > 0);
        consumer.close();
        expect(checker.errors, `run ${run}`).toEqual([]);
        expect(checker.trailing, `run ${run}: the end marker`).toBeGreaterThanOrEqual(0);
        expect(checker.records + checker.lost, `run ${run}: delivered + lost == produced`).toBe(result.attempts);
        const stats = rb.stats();
        expect(stats.overwritten + stats.dropped, `run ${run}`).toBe(checker.lost);
        expect(stats.overwritten, `run ${run}: the producer passed over the consumer`).toBeGreaterThan(0);
      } finally {
        await stop();
      }
    }
  });
});
