import { describe, expect, it } from 'vitest';
import {
  BPF_RB_AVAIL_DATA,
  BPF_RB_CONS_POS,
  BPF_RB_FORCE_WAKEUP,
  BPF_RB_NO_WAKEUP,
  BPF_RB_PROD_POS,
  BPF_RB_RING_SIZE,
  RingBuffer,
  RingBufferConsumer,
  RingBufferRangeError,
  RingBufferStateError,
} from 'wasm-ringbuf';
import * as walk from '../../dist/walk.js';

// the walk is internal: its published typings leave it out, so its type comes from the source
const { RingWalk } = walk as unknown as typeof import('../../src/walk.js');
import { OFF_ROOM_SEQ, OFF_ROOM_WAITERS } from '../../dist/layout.js';
import { countCalls } from '../helpers/wasm-calls.js';

const stride = (len: number) => (len + 8 + 7) & ~7;

function collect(rb: RingBuffer) {
  const got: { bytes: number[]; lost: number }[] = [];
  const c = new RingBufferConsumer(rb, (data, lost) => {
    got.push({ bytes: Array.from(data), lost });
  });
  return { c, got };
}

describe('constants', () => {
  it('have the kernel values', () => {
    expect([BPF_RB_NO_WAKEUP, BPF_RB_FORCE_WAKEUP]).toEqual([1, 2]);
    expect([BPF_RB_AVAIL_DATA, BPF_RB_RING_SIZE, BPF_RB_CONS_POS, BPF_RB_PROD_POS]).toEqual([0, 1, 2, 3]);
  });
});

describe('reserve, submit, discard', () => {
  it('delivers submitted records in order and skips discarded ones', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    const a = rb.reserve(3)!;
    const b = rb.reserve(5)!;
    const c = rb.reserve(1)!;
    a.data.set([1, 2, 3]);
    b.data.set([9, 9, 9, 9, 9]);
    c.data.set([7]);
    c.submit();
    b.discard();
    const { c: consumer, got } = collect(rb);
    expect(consumer.consume()).toBe(0); // the oldest record is still BUSY
    a.submit();
    expect(consumer.consume()).toBe(2);
    expect(got.map((g) => g.bytes)).toEqual([[1, 2, 3], [7]]);
    expect(rb.stats().discarded).toBe(1);
    expect(rb.query(BPF_RB_CONS_POS)).toBe(stride(3) + stride(5) + stride(1));
  });

  it('gives a view of exactly the reserved length that cannot reach a neighbour', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    const a = rb.reserve(5)!;
    const b = rb.reserve(4)!;
    expect(a.data.length).toBe(5);
    expect(() => a.data.set(new Uint8Array(6))).toThrow(RangeError);
    a.data[5] = 0xee; // typed arrays ignore writes past their end
    b.data.set([1, 2, 3, 4]);
    a.submit();
    b.submit();
    const { c, got } = collect(rb);
    c.consume();
    expect(got[1]!.bytes).toEqual([1, 2, 3, 4]);
  });

  it('refuses a second commit of the same reservation', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    const r = rb.reserve(8)!;
    r.submit();
    expect(r.committed).toBe(true);
    expect(() => r.submit()).toThrow(RingBufferStateError);
    expect(() => r.discard()).toThrow(/already submitted or discarded/);
    const off = rb.reserveRaw(8);
    rb.submitRaw(off);
    expect(() => rb.discardRaw(off)).toThrow(RingBufferStateError);
    expect(rb.stats().discarded).toBe(0);
  });

  it('copies with output() and reports a full ring as false', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    expect(rb.output(new Uint8Array([4, 5, 6]), BPF_RB_NO_WAKEUP)).toBe(true);
    expect(rb.output(new Uint32Array([0x01020304]))).toBe(true);
    expect(rb.output(new Uint8Array(4060))).toBe(false); // 16 + 16 + 4072 > 4095
    expect(rb.stats().dropped).toBe(1);
    const { c, got } = collect(rb);
    expect(c.consume()).toBe(2);
    expect(got.map((g) => g.bytes)).toEqual([
      [4, 5, 6],
      [4, 3, 2, 1],
    ]);
  });

  it('copies exactly the bytes of any view given to output(): a Buffer, a subarray at an offset, a DataView', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    const backing = new Uint8Array([9, 8, 7, 6, 5, 4, 3, 2]);
    expect(rb.output(Buffer.from([1, 2, 3]))).toBe(true);
    expect(rb.output(backing.subarray(2, 5))).toBe(true);
    expect(rb.output(new DataView(backing.buffer, 5, 2))).toBe(true);
    expect(rb.output(new Uint16Array(backing.buffer, 2, 1))).toBe(true);
    expect(() => rb.output(new Uint8Array(rb.maxRecord + 1))).toThrow(RingBufferRangeError);
    expect(rb.query(BPF_RB_PROD_POS)).toBe(4 * 16);
    const { c, got } = collect(rb);
    expect(c.consume()).toBe(4);
    expect(got.map((g) => g.bytes)).toEqual([
      [1, 2, 3],
      [7, 6, 5],
      [4, 3],
      [7, 6],
    ]);
  });

  it('takes zero-length records', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    rb.reserve(0)!.submit();
    expect(rb.output(new Uint8Array(0))).toBe(true);
    expect(rb.query(BPF_RB_PROD_POS)).toBe(16);
    const { c, got } = collect(rb);
    expect(c.consume()).toBe(2);
    expect(got.map((g) => g.bytes.length)).toEqual([0, 0]);
  });
});

describe('output() on a single-producer ring', () => {
  it('makes one wasm call per record where a shared ring makes two, for the same records at the same positions', async () => {
    const rings = [
      await RingBuffer.create({ size: 4096 }),
      await RingBuffer.create({ size: 4096, singleProducer: true }),
    ];
    const runs = rings.map((rb) => {
      const { c, got } = collect(rb);
      const { calls } = countCalls(rb);
      const records = [];
      for (let n = 0; n < 20; n++) {
        const len = (n * 37) % 200;
        const bytes = Uint8Array.from({ length: len }, (_, i) => (n + i) & 255);
        records.push(Array.from(bytes));
        expect(rb.output(bytes)).toBe(true);
      }
      const perRecord = { ...calls };
      c.consume();
      return { perRecord, got: got.map((g) => g.bytes), records, prod: rb.query(BPF_RB_PROD_POS) };
    });
    expect(runs[0]!.perRecord).toEqual({ reserve: 20, commit: 20 });
    expect(runs[1]!.perRecord).toEqual({ outputAt: 20 });
    for (const r of runs) expect(r.got).toEqual(r.records);
    expect(runs[1]!.prod).toBe(runs[0]!.prod);
  });

  it('keeps records in order behind a reservation held open, across many laps, and finds a full ring full', async () => {
    const rb = await RingBuffer.create({ size: 4096, singleProducer: true });
    const { c, got } = collect(rb);
    const { calls, declined } = countCalls(rb);
    let n = 0;
    let want: number[][] = [];
    for (let lap = 0; lap < 200; lap++) {
      const held = lap % 3 === 0 ? rb.reserve(5) : null;
      if (held) held.data.set([1, 2, 3, 4, 5]);
      for (let k = 0; k < 1 + (lap % 7); k++, n++) {
        const bytes = Uint8Array.from({ length: (n * 53) % 300 }, (_, i) => (n * 7 + i) & 255);
        expect(rb.output(bytes)).toBe(true);
        want.push(Array.from(bytes));
      }
      if (held) {
        expect(c.consume()).toBe(0); // the consumer waits at the held record
        held.submit();
        want = [[1, 2, 3, 4, 5], ...want];
      }
      c.consume();
      expect(got.map((g) => g.bytes)).toEqual(want);
      got.length = 0;
      want = [];
    }
    expect(rb.query(BPF_RB_PROD_POS) / 4096).toBeGreaterThan(25);
    // a record whose space looks short by the position the producer last read takes the usual path, once a lap at most
    expect(declined.outputAt).toBe(0);
    expect(calls.reserve! - 67).toBeGreaterThan(0); // the 67 held reservations, and the looks at the consumer's position
    expect(calls.reserve! - 67).toBeLessThan(100);
    // full: refused once, counted once, the ring untouched
    while (rb.output(new Uint8Array(100))) n++;
    const prod = rb.query(BPF_RB_PROD_POS);
    expect(rb.stats().dropped).toBe(1);
    expect(rb.output(new Uint8Array(100))).toBe(false);
    expect(rb.stats().dropped).toBe(2);
    expect(rb.query(BPF_RB_PROD_POS)).toBe(prod);
  });

  it('declines, changing nothing, a payload not written where the next record lands', async () => {
    const rb = await RingBuffer.create({ size: 4096, singleProducer: true });
    const at = rb.core.wasm.reserve(rb.core.ctl, 8, rb.producerId, 0);
    rb.core.wasm.commit(rb.core.ctl, at, 0, 0, 0, rb.producerId);
    // the next record's payload is at at + 16; anything else is refused without a trace
    for (const wrong of [at, at + 8, at + 24])
      expect(rb.core.wasm.outputAt(rb.core.ctl, wrong, 8, rb.producerId, 0)).toBe(0);
    expect(rb.query(BPF_RB_PROD_POS)).toBe(16);
    expect(rb.stats().dropped).toBe(0);
    const shared = await RingBuffer.create({ size: 4096 });
    expect(shared.core.wasm.outputAt(shared.core.ctl, shared.core.data + 8, 8, shared.producerId, 0)).toBe(0); // not a single-producer ring
    expect(shared.query(BPF_RB_PROD_POS)).toBe(0);
    expect(rb.core.wasm.outputAt(rb.core.ctl, at + 16, 8, rb.producerId, 0)).toBe(1);
    expect(rb.query(BPF_RB_PROD_POS)).toBe(32);
  });

  it('writes a large payload ahead of its record over space the pending walk no longer needs', async () => {
    // output() on this ring writes the payload before its one call, against the
    // consumer position it last saw: the headers behind PRODUCER_POS must all be
    // walked by then (a lazy walk would read that payload as headers)
    const rb = await RingBuffer.create({ size: 4096, singleProducer: true });
    const got: { len: number; ok: boolean; lost: number }[] = [];
    const c = new RingBufferConsumer(
      rb,
      (d, lost) => void got.push({ len: d.length, ok: d.every((x) => x === (d.length & 255)), lost }),
    );
    const lens: number[] = [];
    const out = (len: number): void => {
      expect(rb.output(new Uint8Array(len).fill(len & 255)), `record ${lens.length}`).toBe(true);
      lens.push(len);
    };
    for (let cycle = 0; cycle < 5; cycle++) {
      for (let i = 0; i < 255; i++) out(8); // 4080 bytes of 16-byte records, unread
      c.consume();
      out(8); // finds the ring full by the consumer position it saw, and reads the new one
      out(3000); // fits by that position: its payload goes in before its one call
      c.consume();
    }
    c.consume();
    expect(got).toEqual(lens.map((len) => ({ len, ok: true, lost: 0 })));
    expect(rb.stats().dropped).toBe(0);
  });
});

describe('space', () => {
  it('never fills a ring to exactly size bytes (the kernel rule)', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    // 4096 - 8 bytes of records fit; one more 8-byte record would make it exactly full
    for (let i = 0; i < 511; i++) expect(rb.reserveRaw(0)).not.toBe(0);
    expect(rb.query(BPF_RB_AVAIL_DATA)).toBe(4088);
    expect(rb.reserve(0)).toBeNull();
    expect(rb.stats().dropped).toBe(1);
  });

  it('takes the largest record, size - 16 bytes of payload, and nothing larger', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    expect(rb.maxRecord).toBe(4080);
    expect(() => rb.reserve(4081)).toThrow(RangeError);
    const big = new Uint8Array(4080).map((_, i) => i & 255);
    expect(rb.output(big)).toBe(true);
    expect(rb.query(BPF_RB_AVAIL_DATA)).toBe(4088);
    const { c, got } = collect(rb);
    expect(c.consume()).toBe(1);
    expect(got[0]!.bytes).toEqual(Array.from(big));
    // and again from a position in the middle of the ring: it runs on into the overhang
    expect(rb.output(new Uint8Array(100))).toBe(true);
    c.consume();
    expect(rb.output(big)).toBe(true);
    expect(c.consume()).toBe(1);
    expect(got[2]!.bytes).toEqual(Array.from(big));
  });

  it('keeps reservations of a lower maxRecord contiguous across the end', async () => {
    const rb = await RingBuffer.create({ size: 4096, maxRecord: 200 });
    expect(() => rb.reserve(201)).toThrow(/largest payload is 200/);
    const { c, got } = collect(rb);
    let written = 0;
    for (let i = 0; i < 200; i++) {
      const len = 150 + (i % 51);
      const r = rb.reserve(len)!;
      r.data.fill(i & 255);
      r.submit();
      written += stride(len);
      expect(c.consume()).toBe(1);
      expect(got[i]!.bytes).toEqual(new Array(len).fill(i & 255));
    }
    expect(rb.query(BPF_RB_PROD_POS)).toBe(written);
  });
});

describe('wrap-around and positions', () => {
  it('wraps many times with many record sizes', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    const { c, got } = collect(rb);
    let pos = 0;
    let n = 0;
    for (let lap = 0; lap < 300; lap++) {
      const burst = 1 + (lap % 9);
      for (let k = 0; k < burst; k++) {
        const len = (n * 37) % 400;
        const r = rb.reserve(len)!;
        for (let i = 0; i < len; i++) r.data[i] = (n + i) & 255;
        if (n % 11 === 5) r.discard();
        else r.submit();
        pos += stride(len);
        n++;
      }
      c.consume();
    }
    expect(rb.query(BPF_RB_PROD_POS)).toBe(pos);
    expect(rb.query(BPF_RB_CONS_POS)).toBe(pos);
    expect(pos / 4096).toBeGreaterThan(50);
    let k = 0;
    for (let i = 0; i < n; i++) {
      if (i % 11 === 5) continue;
      const len = (i * 37) % 400;
      const want = Array.from({ length: len }, (_, j) => (i + j) & 255);
      expect(got[k++]!.bytes).toEqual(want);
    }
    expect(k).toBe(got.length);
  });

  it('keeps exact positions past 2^32', async () => {
    const start = 2 ** 32 - 1024;
    const rb = await RingBuffer.create({ size: 4096, position: start });
    expect(rb.query(BPF_RB_PROD_POS)).toBe(start);
    const { c, got } = collect(rb);
    let pos = start;
    for (let i = 0; i < 2000; i++) {
      const len = 8 + (i % 120);
      const r = rb.reserve(len)!;
      r.data.fill(i & 255);
      r.submit();
      pos += stride(len);
      expect(c.consume()).toBe(1);
      expect(got[i]!.bytes[0]).toBe(i & 255);
      expect(got[i]!.bytes.length).toBe(len);
    }
    expect(pos).toBeGreaterThan(2 ** 32 + 100_000);
    expect(rb.query(BPF_RB_PROD_POS)).toBe(pos);
    expect(rb.query(BPF_RB_CONS_POS)).toBe(pos);
    expect(rb.query(BPF_RB_AVAIL_DATA)).toBe(0);
    // the space rule still holds past 2^32
    let fit = 0;
    while (rb.reserveRaw(0) !== 0) fit++;
    expect(fit).toBe(511);
  });
});

describe('consumer', () => {
  it('consumeN stops after n records and carries on from there', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    for (let i = 0; i < 10; i++) rb.output(new Uint8Array([i]));
    const { c, got } = collect(rb);
    expect(c.consumeN(4)).toBe(4);
    expect(c.consumeN(4)).toBe(4);
    expect(c.consumeN(4)).toBe(2);
    expect(got.map((g) => g.bytes[0])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(c.consumeN(0)).toBe(0);
  });
  it('publishes its position as a long pass goes: a producer that keeps up never finds the ring full', async () => {
    // 56-byte payloads take 64 bytes: 24 start in the ring, and each record
    // delivered makes one more, so the pass lasts until all 2000 are read.
    const rb = await RingBuffer.create({ size: 4096 });
    const total = 2000;
    let made = 0;
    const make = (): void => {
      const rec = new Uint8Array(56);
      new DataView(rec.buffer).setUint32(0, made, true);
      if (!rb.output(rec)) throw new Error(`record ${made} refused: the ring looked full`);
      made++;
    };
    for (let i = 0; i < 24; i++) make();
    const seen: number[] = [];
    const c = new RingBufferConsumer(rb, (d) => {
      seen.push(new DataView(d.buffer, d.byteOffset, d.length).getUint32(0, true));
      if (made < total) make();
    });
    expect(c.consume()).toBe(total);
    expect(seen).toEqual(Array.from({ length: total }, (_, i) => i));
    expect(rb.stats().dropped).toBe(0);
    expect(rb.query(BPF_RB_CONS_POS)).toBe(total * 64);
  });

  it('wakes producers waiting for room each quarter ring within a pass, and always at its end', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    const seq = (rb.core.ctl + OFF_ROOM_SEQ) >> 2;
    Atomics.store(rb.core.i32, (rb.core.ctl + OFF_ROOM_WAITERS) >> 2, 1); // a producer announced that it waits
    // a pass that publishes once in the middle (10 records, 640 bytes: past a
    // sixteenth, short of a quarter), then finds nothing: its end owes the look
    for (let i = 0; i < 10; i++) expect(rb.output(new Uint8Array(56))).toBe(true);
    const c = new RingBufferConsumer(rb, () => {});
    expect(c.consume()).toBe(10);
    expect(Atomics.load(rb.core.i32, seq)).toBe(1);
    // a long pass fed as it goes (3 records ahead): woken a quarter ring at a time, not at each publish
    for (let i = 0; i < 3; i++) rb.output(new Uint8Array(56));
    let made = 3;
    const feed = new RingBufferConsumer(undefined, undefined);
    c.close();
    feed.add(rb, () => void (made < 2000 && rb.output(new Uint8Array(56)) && made++));
    expect(feed.consume()).toBe(2000);
    const looks = Atomics.load(rb.core.i32, seq) - 1;
    // at most one per quarter ring (1024 bytes) and the end; at least one per half ring
    expect(looks).toBeLessThanOrEqual(Math.ceil((2000 * 64) / 1024) + 1);
    expect(looks).toBeGreaterThanOrEqual(Math.floor((2000 * 64) / 2048));
    expect(rb.stats().dropped).toBe(0);
  });

  it('stops at a negative return and counts that record as consumed', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    for (let i = 0; i < 5; i++) rb.output(new Uint8Array([i]));
    const seen: number[] = [];
    const c = new RingBufferConsumer(rb, (d) => {
      seen.push(d[0]!);
      return d[0] === 1 ? -7777 : 0;
    });
    expect(c.consume()).toBe(-7777);
    expect(rb.query(BPF_RB_CONS_POS)).toBe(2 * 16);
    expect(c.consume()).toBe(3);
    expect(seen).toEqual([0, 1, 2, 3, 4]);
  });

  it('propagates a throw and carries on after that record', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    for (let i = 0; i < 4; i++) rb.output(new Uint8Array([i]));
    const seen: number[] = [];
    const c = new RingBufferConsumer(rb, (d) => {
      seen.push(d[0]!);
      if (d[0] === 2) throw new Error('boom');
    });
    expect(() => c.consume()).toThrow('boom');
    expect(c.consume()).toBe(1);
    expect(seen).toEqual([0, 1, 2, 3]);
  });

  it('stops at a negative return and carries on after a throw with the zero-allocation callback too', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    for (let i = 0; i < 6; i++) rb.output(new Uint8Array([i]));
    const seen: number[] = [];
    const c = new RingBufferConsumer().addRaw(rb, (bytes, offset) => {
      seen.push(bytes[offset]!);
      if (bytes[offset] === 3) throw new Error('boom');
      return bytes[offset] === 1 ? -5 : 0;
    });
    expect(c.consume()).toBe(-5);
    expect(rb.query(BPF_RB_CONS_POS)).toBe(2 * 16);
    expect(() => c.consume()).toThrow('boom');
    expect(rb.query(BPF_RB_CONS_POS)).toBe(4 * 16);
    expect(c.consume()).toBe(2);
    expect(seen).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('delivers each record once when a callback consumes from its own ring', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    for (let i = 0; i < 8; i++) rb.output(new Uint8Array([i]));
    const seen: number[] = [];
    const c: RingBufferConsumer = new RingBufferConsumer(rb, (d) => {
      seen.push(d[0]!);
      if (d[0] === 2) c.consumeN(3); // takes 3, 4 and 5 from within the callback
    });
    expect(c.consume()).toBe(5);
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(rb.query(BPF_RB_CONS_POS)).toBe(rb.query(BPF_RB_PROD_POS));
  });

  it('delivers each record once when a callback peeks at its own ring', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    for (let i = 0; i < 6; i++) rb.output(new Uint8Array([i]));
    const cursor = new RingWalk(rb);
    const seen: number[] = [];
    const visit = (bytes: Uint8Array, offset: number): void => {
      seen.push(bytes[offset]!);
      if (bytes[offset] === 1) expect(cursor.peek()).toBe(true); // leaves record 2 at the head, as a poll() within a callback can
    };
    expect(cursor.deliver(10, visit)).toBe(6);
    expect(cursor.deliver(10, visit)).toBe(0);
    expect(cursor.peek()).toBe(false);
    cursor.publish();
    expect(seen).toEqual([0, 1, 2, 3, 4, 5]);
    expect(rb.query(BPF_RB_CONS_POS)).toBe(rb.query(BPF_RB_PROD_POS));
    cursor.release();
  });

  it('delivers the record a peek left at the head first, with the losses before it', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    rb.output(new Uint8Array(2000));
    rb.output(new Uint8Array(2000));
    expect(rb.output(new Uint8Array(2000))).toBe(false);
    const cursor = new RingWalk(rb);
    const seen: { len: number; lost: number; first: number }[] = [];
    const visit = (bytes: Uint8Array, offset: number, len: number, lost: number): void =>
      void seen.push({ len, lost, first: bytes[offset]! });
    expect(cursor.deliver(2, visit)).toBe(2);
    cursor.publish();
    rb.output(new Uint8Array([7]));
    rb.reserve(4)!.discard();
    rb.output(new Uint8Array([8]));
    rb.output(new Uint8Array([9]));
    expect(cursor.peek()).toBe(true);
    expect(cursor.peek()).toBe(true); // a second peek finds the same record
    expect(cursor.deliver(1, visit)).toBe(1);
    expect(cursor.deliver(10, visit)).toBe(2);
    expect(cursor.deliver(10, visit)).toBe(0);
    expect(cursor.peek()).toBe(false);
    cursor.publish();
    expect(seen).toEqual([
      { len: 2000, lost: 0, first: 0 },
      { len: 2000, lost: 0, first: 0 },
      { len: 1, lost: 1, first: 7 },
      { len: 1, lost: 0, first: 8 },
      { len: 1, lost: 0, first: 9 },
    ]);
    expect(rb.query(BPF_RB_CONS_POS)).toBe(rb.query(BPF_RB_PROD_POS));
    cursor.release();
  });

  it('reads two rings with one consumer', async () => {
    const a = await RingBuffer.create({ size: 4096 });
    const b = await RingBuffer.create({ size: 8192 });
    const seen: string[] = [];
    const c = new RingBufferConsumer(a, (d) => void seen.push(`a${d[0]}`)).add(b, (d) => void seen.push(`b${d[0]}`));
    a.output(new Uint8Array([1]));
    b.output(new Uint8Array([2]));
    b.output(new Uint8Array([3]));
    expect(c.consume()).toBe(3);
    expect(seen).toEqual(['a1', 'b2', 'b3']);
    expect(c.rings).toEqual([a, b]);
    expect(() => c.add(a, () => {})).toThrow(/already added/);
    b.output(new Uint8Array([4]));
    expect(await c.poll(0)).toBe(1);
  });

  it('reports refused records to the consumer with the next record', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    const { c, got } = collect(rb);
    rb.output(new Uint8Array(2000));
    rb.output(new Uint8Array(2000));
    expect(rb.output(new Uint8Array(2000))).toBe(false);
    expect(rb.reserve(500)).toBeNull();
    c.consume();
    const r = rb.reserve(4)!;
    r.discard(); // a discarded record in between does not swallow the count
    rb.output(new Uint8Array([1]));
    c.consume();
    expect(got.map((g) => g.lost)).toEqual([0, 0, 2]);
    expect(rb.stats().dropped).toBe(2);
  });

  it('close() makes a pending poll(-1) return 0 and gives the ring up to a new consumer', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    const { c } = collect(rb);
    const pending = c.poll(-1);
    c.close();
    expect(await pending).toBe(0);
    expect(() => c.consume()).toThrow(expect.objectContaining({ code: 'ERR_RINGBUF_CLOSED' }));
    await expect(c.poll(0)).rejects.toMatchObject({ code: 'ERR_RINGBUF_CLOSED' });
    rb.output(new Uint8Array([3]));
    const next = collect(rb);
    expect(await next.c.poll(-1)).toBe(1);
    expect(next.got.map((g) => g.bytes)).toEqual([[3]]);
  });

  it('gives the zero-allocation callback the payload in place', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    const off = rb.reserveRaw(3);
    rb.bytes.set([7, 8, 9], off);
    rb.submitRaw(off);
    const seen: number[][] = [];
    const c = new RingBufferConsumer().addRaw(rb, (bytes, offset, length, lost) => {
      expect(lost).toBe(0);
      seen.push(Array.from(bytes.subarray(offset, offset + length)));
    });
    expect(c.consume()).toBe(1);
    expect(seen).toEqual([[7, 8, 9]]);
  });
});
