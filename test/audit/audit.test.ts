// The protocol audit's findings, one test each (docs/reliability.md states
// what each now guarantees). Interleavings that need two threads are forced
// in one: a producer's commit is split where the race was.
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import {
  BPF_RB_AVAIL_DATA,
  BPF_RB_FORCE_WAKEUP,
  BPF_RB_NO_WAKEUP,
  BPF_RB_PROD_POS,
  FairConsumer,
  PerfBuffer,
  PerfBufferConsumer,
  RingBuffer,
  RingBufferConsumer,
  RingBufferCorruptError,
} from 'wasm-ringbuf';
import { OFF_CONSUMER_POS, RING_BASE } from '../../dist/layout.js';
import { W_COUNTER } from '../../dist/perfbuf/layout.js';
import { watchdog } from '../helpers/run.js';

/** The internals a test reaches into to force an interleaving (not part of the public types). */
interface Internals {
  ctl: number;
  i32: Int32Array;
}
const internals = (rb: RingBuffer): Internals => (rb as unknown as { core: Internals }).core;

/** Settles to 'asleep' if `p` has not settled by the next macrotask turn after `ms`. */
function settledWithin<T>(p: Promise<T>, ms: number): Promise<T | 'asleep'> {
  return Promise.race([p, new Promise<'asleep'>((resolve) => setTimeout(() => resolve('asleep'), ms))]);
}

describe('1. overwrite mode: a producer that moves CONSUMER_POS wakes a consumer asleep', () => {
  it("the consumer asleep at A's BUSY record, A clears BUSY, B passes it, A's commit finds CONSUMER_POS moved", async () => {
    const rb = await RingBuffer.create({ size: 4096, overwrite: true });
    const b = await RingBuffer.attach(rb.handle);
    const consumer = new RingBufferConsumer(rb, () => {}, { napMs: 0 });
    const a = rb.reserveRaw(16); // A's record, at the consumer position
    // the ring full behind it: 170 records of 24 bytes fill 4080 of the 4095 bytes it may hold
    for (let i = 0; i < 4080 / 24 - 1; i++) b.submitRaw(b.reserveRaw(16), BPF_RB_NO_WAKEUP);
    const poll = consumer.poll(-1); // finds A's record BUSY: arms and sleeps
    // A's commit, split: the exchange that clears BUSY ...
    const { i32 } = internals(rb);
    Atomics.store(i32, (a - 8) >> 2, 16);
    // ... B's reservation passes A's (now committed) record and moves CONSUMER_POS ...
    b.submitRaw(b.reserveRaw(16), 0);
    expect(rb.stats().overwritten).toBe(1);
    // ... and the rest of A's commit, its wakeup rule, would find CONSUMER_POS elsewhere now: it
    // sends none, so the wakeup must come from B's move
    expect(
      await watchdog(
        poll,
        5_000,
        () => `poll(-1) asleep with ${rb.query(BPF_RB_AVAIL_DATA)} bytes waiting, wakeups ${rb.stats().wakeups}`,
      ),
    ).toBeGreaterThan(0);
    expect(rb.stats().wakeups).toBeGreaterThan(0);
    consumer.close();
  });
});

describe('2. producer ids are given back', () => {
  it('5000 attach/close cycles of a perf buffer slot, then a dead producer is reaped', async () => {
    const pb = await PerfBuffer.create({ producers: 1, size: 4096 });
    for (let i = 0; i < 5000; i++) (await PerfBuffer.attach(pb.handle, 0)).close();
    const p = await PerfBuffer.attach(pb.handle, 0);
    expect((p as unknown as { ring: RingBuffer }).ring.producerId).toBeGreaterThan(0);
    p.reserve(8); // never committed: its thread "died"
    expect(pb.reapProducer(0)).toBe(1);
    const got: number[] = [];
    const c = new PerfBufferConsumer(pb, { sample: (d) => void got.push(d.length) });
    const q = await PerfBuffer.attach(pb.handle, 0);
    q.output(new Uint8Array(3));
    expect(c.consume()).toBe(1);
    expect(got).toEqual([3]);
  });

  it('5000 attach/close cycles of a ring, and reaped ids come back', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    const seen = new Set<number>();
    for (let i = 0; i < 5000; i++) {
      const p = await RingBuffer.attach(rb.handle);
      seen.add(p.producerId);
      p.close();
    }
    expect(seen.has(0)).toBe(false);
    const dead = await RingBuffer.attach(rb.handle);
    dead.reserveRaw(8);
    expect(rb.reapProducer(dead.producerId)).toEqual({ discarded: 1, lockRecovered: false });
    expect((await RingBuffer.attach(rb.handle)).producerId).toBe(dead.producerId);
    expect(() => rb.reapProducer(4000)).toThrow(expect.objectContaining({ code: 'ERR_RINGBUF_PRODUCER' }));
  });
});

describe('3. poll() on a consumer with no rings', () => {
  it('rejects at once instead of waiting forever', async () => {
    await expect(new RingBufferConsumer().poll(-1)).rejects.toMatchObject({ code: 'ERR_RINGBUF_NO_RINGS' });
    await expect(new FairConsumer().poll(-1)).rejects.toMatchObject({ code: 'ERR_RINGBUF_NO_RINGS' });
  });
});

describe('4. two poll() calls on one consumer', () => {
  it('the second is refused; the first still wakes on a later commit', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    const consumer = new RingBufferConsumer(rb, () => {});
    const first = consumer.poll(-1);
    await expect(consumer.poll(10)).rejects.toMatchObject({ code: 'ERR_RINGBUF_POLL_PENDING' });
    expect(() => consumer.pollSync(10)).toThrow(expect.objectContaining({ code: 'ERR_RINGBUF_POLL_PENDING' }));
    rb.output(new Uint8Array(1));
    expect(await watchdog(first, 5_000, () => 'the first poll slept through a commit')).toBe(1);
    consumer.close();
  });
});

describe('5. one consumer per ring', () => {
  it('a second consumer is refused with its own code; close() releases the ring', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    const first = new RingBufferConsumer(rb, () => {});
    expect(() => new RingBufferConsumer(rb, () => {})).toThrow(
      expect.objectContaining({ code: 'ERR_RINGBUF_CONSUMER_TAKEN' }),
    );
    expect(() => new FairConsumer().add(rb, () => {})).toThrow(
      expect.objectContaining({ code: 'ERR_RINGBUF_CONSUMER_TAKEN' }),
    );
    rb.output(new Uint8Array([1]));
    expect(first.consume()).toBe(1);
    first.close();
    const got: number[] = [];
    const second = new RingBufferConsumer(rb, (d) => void got.push(d[0]!));
    rb.output(new Uint8Array([2]));
    expect(second.consume()).toBe(1);
    expect(got).toEqual([2]); // nothing delivered twice
    second.close();
  });

  it('a consumer whose worker was terminated is released by reapConsumer()', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    const worker = new Worker(new URL('../fixtures/consumer.mjs', import.meta.url), {
      workerData: { handle: rb.handle, seed: 1, producers: [], min: 12, max: 12, expected: 1 },
    });
    const exited = once(worker, 'exit');
    await once(worker, 'message'); // ready: it holds the ring, asleep in pollSync
    expect(() => new RingBufferConsumer(rb, () => {})).toThrow(
      expect.objectContaining({ code: 'ERR_RINGBUF_CONSUMER_TAKEN' }),
    );
    await worker.terminate();
    await exited;
    expect(rb.reapConsumer()).toBe(true);
    const c = new RingBufferConsumer(rb, () => {});
    rb.output(new Uint8Array(4));
    expect(c.consume()).toBe(1);
    c.close();
  });
});

describe('7. overwrite mode reports a gap where it is', () => {
  it('200 records of 24 B into 4 KiB: the count comes before the first record after the gap, and nowhere else', async () => {
    const rb = await RingBuffer.create({ size: 4096, overwrite: true });
    const got: { seq: number; lost: number }[] = [];
    const consumer = new RingBufferConsumer(
      rb,
      (d, lost) => void got.push({ seq: new DataView(d.buffer, d.byteOffset).getUint32(0, true), lost }),
    );
    const put = (seq: number): void => {
      const r = rb.reserve(16)!;
      new DataView(r.data.buffer, r.data.byteOffset).setUint32(0, seq, true);
      r.submit(BPF_RB_NO_WAKEUP);
    };
    for (let seq = 0; seq < 200; seq++) put(seq);
    consumer.consume();
    const first = got[0]!.seq;
    expect(got.map((g) => g.seq)).toEqual(Array.from({ length: got.length }, (_, k) => first + k));
    expect(got.map((g) => g.lost)).toEqual([first, ...new Array(got.length - 1).fill(0)]);
    expect(first).toBe(rb.stats().overwritten);
    // a second gap, after the consumer caught up: reported before the record after it
    got.length = 0;
    for (let seq = 200; seq < 400; seq++) put(seq);
    consumer.consume();
    const next = got[0]!.seq;
    expect(got[0]!.lost).toBe(next - 200);
    expect(got.slice(1).every((g) => g.lost === 0)).toBe(true);
    expect(200 + got.length + (next - 200)).toBe(400);
    consumer.close();
  });
});

describe('8. the lost count in the stream is exact at any rate', () => {
  it('more than 2^20 refusals between two records: a loss record carries what 20 bits cannot', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    let lost = 0;
    let records = 0;
    const consumer = new RingBufferConsumer(rb, (_d, l) => {
      lost += l;
      records++;
    });
    const record = new Uint8Array(1000);
    let written = 0;
    while (rb.output(record)) written++; // the last call is the first refusal
    const refusals = 3 * 2 ** 20 + 7;
    for (let i = 1; i < refusals; i++) rb.output(record);
    expect(rb.stats().dropped).toBe(refusals);
    expect(consumer.consume()).toBe(written);
    expect(rb.output(record)).toBe(true); // reserved after the refusals: the gap is reported with it
    expect(consumer.consume()).toBe(1);
    expect(records).toBe(written + 1);
    expect(lost).toBe(refusals);
    consumer.close();
  });
});

describe('8. the lost count in the stream is exact at any rate, on a single-producer ring', () => {
  it('a record that fits where the producer last saw room still gets the loss record before it', async () => {
    const rb = await RingBuffer.create({ size: 4096, singleProducer: true });
    const got: { len: number; first: number; lost: number }[] = [];
    const consumer = new RingBufferConsumer(rb, (d, lost) => void got.push({ len: d.length, first: d[0]!, lost }));
    // a lap (its last output the first refusal), then one record by the usual path,
    // which leaves the producer's view of the consumer fresh
    let written = 0;
    while (rb.output(new Uint8Array(1000))) written++;
    expect(consumer.consume()).toBe(written);
    expect(rb.output(new Uint8Array(1000))).toBe(true);
    const refusals = 2 ** 20 + 5;
    const big = new Uint8Array(rb.maxRecord);
    let accepted = 0;
    for (let i = 1; i < refusals; i++) if (rb.output(big)) accepted++;
    expect(accepted).toBe(0);
    expect(rb.stats().dropped).toBe(refusals);
    // a small record fits by what the producer last saw; the one wasm call finds a loss record due and declines
    const next = rb.core.data + (rb.query(BPF_RB_PROD_POS) & (rb.size - 1)) + 8;
    expect(rb.core.wasm.outputAt(rb.core.ctl, next, 1, rb.producerId, 0)).toBe(0);
    expect(rb.output(new Uint8Array([7]))).toBe(true); // the usual path: the loss record, then the record
    expect(consumer.consume()).toBe(2);
    expect(got.slice(written)).toEqual([
      { len: 1000, first: 0, lost: 1 },
      { len: 1, first: 7, lost: refusals - 1 },
    ]);
    consumer.close();
  });
});

describe('9. per-producer buffers keep stamps within the signed window', () => {
  it('a reservation held open while the counter runs 2^30 steps ahead is refused, not merged out of order', async () => {
    const pb = await PerfBuffer.create({ producers: 2, size: 4096 });
    const [a, b] = [await PerfBuffer.attach(pb.handle, 0), await PerfBuffer.attach(pb.handle, 1)];
    const order: number[] = [];
    const c = new PerfBufferConsumer(pb, { sample: (d) => void order.push(d[0]!) });
    const held = a.reserve(1)!; // stays open while B's discards run the counter ahead
    held.data[0] = 1;
    const control = new Int32Array(pb.handle.control);
    // 2^30 steps of discarded records later (the counter is moved rather than stepped there)
    Atomics.add(control, W_COUNTER, 2 ** 30 + 64);
    expect(b.output(new Uint8Array([2]))).toBe(false); // refused: its stamp would leave the window
    expect(b.stats().dropped).toBe(1);
    held.submit();
    expect(b.output(new Uint8Array([3]))).toBe(true); // the window moved on with A's commit
    c.consume();
    expect(order).toEqual([1, 3]);
    c.close();
  });
});

describe('10. a corrupt ring keeps failing the same way', () => {
  it('a consumer position changed by someone else throws on this call and every later one, until close()', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    const consumer = new RingBufferConsumer(rb, () => {});
    rb.output(new Uint8Array(8));
    const view = new DataView(rb.memory.buffer);
    view.setBigUint64(RING_BASE + OFF_CONSUMER_POS, 8n, true); // someone else writes CONSUMER_POS
    expect(() => consumer.consume()).toThrow(RingBufferCorruptError);
    let again: unknown;
    for (let i = 0; i < 3; i++) {
      rb.output(new Uint8Array(8));
      try {
        consumer.consume();
      } catch (err) {
        again = err;
      }
      expect(again).toBeInstanceOf(RingBufferCorruptError);
      expect((again as RingBufferCorruptError).position).toBe(0);
    }
    await expect(consumer.poll(0)).rejects.toBeInstanceOf(RingBufferCorruptError);
    expect(view.getBigUint64(RING_BASE + OFF_CONSUMER_POS, true)).toBe(8n); // nothing moved it since
    consumer.close();
  });
});

describe('11. flags as the kernel checks them', () => {
  it('NO_WAKEUP | FORCE_WAKEUP is accepted and FORCE wins; other bits are refused', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    const consumer = new RingBufferConsumer(rb, () => {}, { napMs: 0 });
    const poll = consumer.poll(-1);
    rb.output(new Uint8Array(1), BPF_RB_NO_WAKEUP); // at the consumer position, but NO_WAKEUP
    expect(await settledWithin(poll, 50)).toBe('asleep');
    rb.output(new Uint8Array(1), BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP);
    expect(await watchdog(poll, 5_000, () => 'FORCE did not win over NO_WAKEUP')).toBe(2);
    expect(() => rb.output(new Uint8Array(1), 4)).toThrow(expect.objectContaining({ code: 'ERR_RINGBUF_FLAGS' }));
    consumer.close();
  });
});
