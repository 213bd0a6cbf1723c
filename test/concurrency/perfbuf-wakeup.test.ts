// The ordered per-producer merge holds a committed record back while another
// producer's LOW is below its stamp. Whatever releases it (a refused
// reservation putting LOW back to IDLE, a commit with BPF_RB_NO_WAKEUP), a
// consumer asleep in poll(-1) with that record now deliverable must be woken:
// the record's own commit asked for a wakeup, and the consumer could not take
// it then. Each case places the interleaving itself, through the control
// words of src/perfbuf/layout.ts, and checks that the consumer is asleep
// (WAIT = ARMED on every ring) before the step that must wake it.
import { describe, expect, it } from 'vitest';
import { BPF_RB_NO_WAKEUP, PerfBuffer, PerfBufferConsumer, type PerfBufferProducer } from 'wasm-ringbuf';
import { OFF_WAIT, WAIT_ARMED } from '../../dist/layout.js';
import { IDLE, SLOT_LOW, SLOT_WORDS, W_COUNTER, W_SLOTS } from '../../dist/perfbuf/layout.js';
import { watchdog } from '../helpers/run.js';

const WAKE_MS = 3_000; // a failure bound: a woken consumer answers in microseconds
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

interface Setup {
  pb: PerfBuffer;
  control: Int32Array;
  a: PerfBufferProducer;
  b: PerfBufferProducer;
  consumer: PerfBufferConsumer;
  got: { slot: number; stamp: number; byte: number }[];
  /** Whether the consumer sleeps, announced, on every ring. */
  asleep: () => boolean;
  low: (slot: number) => number;
}

async function setup(): Promise<Setup> {
  const pb = await PerfBuffer.create({ producers: 2, size: 4096 });
  const control = new Int32Array(pb.handle.control);
  const a = await PerfBuffer.attach(pb.handle, 0);
  const b = await PerfBuffer.attach(pb.handle, 1);
  const got: Setup['got'] = [];
  const consumer = new PerfBufferConsumer(pb, {
    sample: (data, slot, stamp) => void got.push({ slot, stamp, byte: data[0]! }),
  });
  const asleep = () => pb.rings.every((r) => Atomics.load(r.core.i32, (r.core.ctl + OFF_WAIT) >> 2) === WAIT_ARMED);
  const low = (slot: number) => Atomics.load(control, W_SLOTS + slot * SLOT_WORDS + SLOT_LOW);
  return { pb, control, a, b, consumer, got, asleep, low };
}

describe('ordered per-producer buffer: a record held back behind another producer wakes the consumer once it is released', () => {
  it("a refused reservation puts LOW back to IDLE: the consumer asleep behind it is woken with the other producer's record", async () => {
    const { pb, control, a, b, consumer, got, asleep, low } = await setup();
    try {
      // slot 0's ring is full of a reservation that stays BUSY (made on the ring itself, so it carries no stamp)
      const ring0 = pb.rings[0]!;
      expect(ring0.reserveRaw(ring0.maxRecord)).not.toBe(0);
      // producer A (slot 0) is inside reserveRaw(): it has published its bound, LOW = COUNTER, and not yet reserved
      Atomics.store(control, W_SLOTS + 0 * SLOT_WORDS + SLOT_LOW, Atomics.load(control, W_COUNTER));
      // producer B commits a record with default flags: stamped at A's bound, so held back
      expect(b.output(new Uint8Array([0xb0]))).toBe(true);
      expect(consumer.consume()).toBe(0);
      const polled = consumer.poll(-1);
      expect(asleep(), 'the consumer sleeps in poll(-1), armed on both rings').toBe(true);
      // A's reservation is refused: LOW goes back to IDLE, and B's record is deliverable
      expect(a.reserveRaw(16)).toBe(0);
      expect(low(0)).toBe(IDLE);
      const n = await watchdog(
        polled,
        WAKE_MS,
        () => `poll(-1) still asleep ${WAKE_MS} ms after A's refusal released B's record (WAIT armed: ${asleep()})`,
      );
      expect(n).toBe(1);
      expect(got.map((r) => [r.slot, r.byte])).toEqual([[1, 0xb0]]);
      expect(pb.stats(0).dropped).toBe(1);
    } finally {
      consumer.close();
    }
  });

  it('a commit with BPF_RB_NO_WAKEUP releases a record committed before the consumer slept: the consumer is woken with both', async () => {
    const { a, b, consumer, got, asleep } = await setup();
    try {
      const offA = a.reserveRaw(1); // A holds the watermark with a real reservation
      expect(offA).not.toBe(0);
      a.bytes[offA] = 0xa0;
      expect(b.output(new Uint8Array([0xb0]))).toBe(true); // default flags, stamped after A's: held back
      expect(consumer.consume()).toBe(0);
      const polled = consumer.poll(-1);
      expect(asleep(), 'the consumer sleeps in poll(-1), armed on both rings').toBe(true);
      a.submitRaw(offA, BPF_RB_NO_WAKEUP);
      const n = await watchdog(
        polled,
        WAKE_MS,
        () =>
          `poll(-1) still asleep ${WAKE_MS} ms after A's NO_WAKEUP commit released B's record (WAIT armed: ${asleep()})`,
      );
      expect(n).toBe(2);
      expect(got.map((r) => [r.slot, r.byte])).toEqual([
        [0, 0xa0],
        [1, 0xb0],
      ]);
      expect(got[0]!.stamp).toBeLessThan(got[1]!.stamp);
    } finally {
      consumer.close();
    }
  });

  it('the same when the held-back record was committed while the consumer slept (its wakeup found nothing to deliver)', async () => {
    const { a, b, consumer, got, asleep } = await setup();
    try {
      const offA = a.reserveRaw(1);
      expect(offA).not.toBe(0);
      a.bytes[offA] = 0xa0;
      const polled = consumer.poll(-1);
      expect(asleep()).toBe(true);
      expect(b.output(new Uint8Array([0xb0]))).toBe(true); // wakes the consumer, which finds it held back
      // it goes back to sleep: wait for that (a turn of the event loop at a time, bounded)
      await watchdog(
        (async () => {
          do await turn();
          while (!asleep());
        })(),
        WAKE_MS,
        () => 'the consumer did not go back to sleep',
      );
      expect(got).toEqual([]);
      a.submitRaw(offA, BPF_RB_NO_WAKEUP);
      const n = await watchdog(
        polled,
        WAKE_MS,
        () => `poll(-1) still asleep ${WAKE_MS} ms after A's NO_WAKEUP commit released B's record`,
      );
      expect(n).toBe(2);
      expect(got.map((r) => [r.slot, r.byte])).toEqual([
        [0, 0xa0],
        [1, 0xb0],
      ]);
    } finally {
      consumer.close();
    }
  });
});
