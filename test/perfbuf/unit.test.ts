// Per-producer buffers on one thread: the record format, the producer
// surface, the watermark, lost-sample placement and the fair consumer, each
// checked step by step (the worker suites beside this file run them under load).
import { describe, expect, it } from 'vitest';
import {
  BPF_RB_AVAIL_DATA,
  BPF_RB_NO_WAKEUP,
  BPF_RB_PROD_POS,
  FairConsumer,
  PerfBuffer,
  PerfBufferConsumer,
  RingBuffer,
  RingBufferConsumer,
  type PerfBufferProducer,
} from 'wasm-ringbuf';
import { countCalls } from '../helpers/wasm-calls.js';

type Event =
  | [kind: 'sample', producer: number, stamp: number, byte: number]
  | [kind: 'lost', producer: number, count: number];

async function setup(producers: number, options: { size?: number; ordered?: boolean; consumerOrdered?: boolean } = {}) {
  const pb = await PerfBuffer.create({ producers, size: options.size ?? 4096, ordered: options.ordered ?? true });
  const ps: PerfBufferProducer[] = [];
  for (let k = 0; k < producers; k++) ps.push(await PerfBuffer.attach(pb.handle, k));
  const events: Event[] = [];
  const c = new PerfBufferConsumer(pb, {
    sample: (data, producer, stamp) => void events.push(['sample', producer, stamp, data[0] ?? -1]),
    lost: (producer, count) => void events.push(['lost', producer, count]),
    ...(options.consumerOrdered === undefined ? {} : { ordered: options.consumerOrdered }),
  });
  return { pb, ps, c, events };
}

const one = (b: number): Uint8Array => new Uint8Array([b]);

describe('PerfBuffer producer surface', () => {
  it('reserve() gives exactly len bytes behind a hidden stamp; a reservation commits once', async () => {
    const { ps, c, events } = await setup(1);
    const p = ps[0]!;
    const r = p.reserve(5)!;
    expect(r.data.length).toBe(5);
    expect(() => r.data.set(new Uint8Array(6))).toThrow(RangeError);
    r.data.set([9, 8, 7, 6, 5]);
    r.submit();
    expect(() => r.submit()).toThrow(/once/);
    expect(c.consume()).toBe(1);
    expect(events).toEqual([['sample', 0, 0, 9]]);
    // ring bytes: 8-byte header + 8-byte prefix + 5 bytes, rounded to 8
    expect(p.query(BPF_RB_AVAIL_DATA)).toBe(0);
    expect(p.query(BPF_RB_PROD_POS)).toBe(24);
  });

  it('output(), write() and the raw path; flags are checked; maxRecord leaves room for the prefix', async () => {
    const { pb, ps, c, events } = await setup(2);
    expect(pb.maxRecord).toBe(4096 - 24);
    expect(ps[0]!.output(one(1), BPF_RB_NO_WAKEUP)).toBe(true);
    expect(ps[1]!.write(1, (d) => void (d[0] = 2))).toBe(true);
    const off = ps[0]!.reserveRaw(1);
    ps[0]!.bytes[off] = 3;
    expect(() => ps[0]!.submitRaw(off, 4)).toThrow(/flags/);
    ps[0]!.submitRaw(off);
    expect(() => ps[0]!.submitRaw(off)).toThrow(/pending reservation/);
    expect(() => ps[0]!.reserveRaw(pb.maxRecord + 1)).toThrow(RangeError);
    c.consume();
    expect(events).toEqual([
      ['sample', 0, 0, 1],
      ['sample', 1, 1, 2],
      ['sample', 0, 2, 3],
    ]);
  });

  it('bad options and handles reject; a slot takes one producer until close()', async () => {
    await expect(PerfBuffer.create({ producers: 0, size: 4096 })).rejects.toThrow(/producers/);
    await expect(PerfBuffer.create({ producers: 2, size: 3000 })).rejects.toThrow(/power of two/);
    await expect(PerfBuffer.create({ producers: 2, size: 4096, maxRecord: 4096 - 16 })).rejects.toThrow(/maxRecord/);
    await expect(PerfBuffer.create({ producers: 64, size: 2 ** 30 })).rejects.toThrow(/stamps/);
    const pb = await PerfBuffer.create({ producers: 2, size: 4096 });
    await expect(PerfBuffer.attach(pb.handle, 2)).rejects.toThrow(/slot/);
    await expect(PerfBuffer.attach({ ...pb.handle, kind: 'x' } as never, 0)).rejects.toThrow(/handle/);
    const p = await PerfBuffer.attach(pb.handle, 1);
    await expect(PerfBuffer.attach(pb.handle, 1)).rejects.toThrow(/already has a producer/);
    p.close();
    expect(() => p.reserveRaw(1)).toThrow(/closed/);
    expect(() => p.output(one(1))).toThrow(/PerfBuffer\.attach/);
    await expect(PerfBuffer.attach(pb.handle, 1)).resolves.toBeDefined();
  });

  it("output() without stamps is the slot ring's: one wasm call per record; with stamps, two", async () => {
    for (const ordered of [false, true]) {
      const { ps, c, events } = await setup(1, { ordered, consumerOrdered: ordered });
      const { order } = countCalls(ps[0]!.ring);
      for (let b = 1; b <= 3; b++) expect(ps[0]!.output(one(b))).toBe(true);
      expect(order).toEqual(
        ordered
          ? ['reserve', 'commit', 'reserve', 'commit', 'reserve', 'commit']
          : ['outputAt', 'outputAt', 'outputAt'],
      );
      c.consume();
      expect(events.map((e) => e[3])).toEqual([1, 2, 3]);
    }
  });
});

describe('ordered merge', () => {
  it('delivers by stamp across producers', async () => {
    const { ps, c, events } = await setup(3);
    for (let i = 0; i < 9; i++) ps[(i * 2) % 3]!.output(one(i));
    expect(c.consume()).toBe(9);
    expect(events.map((e) => e[3])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(events.map((e) => e[2])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('a producer that has taken a stamp and not committed holds back every later stamp, and only those', async () => {
    const { ps, c, events } = await setup(3);
    ps[0]!.output(one(0));
    const held = ps[1]!.reserve(1)!; // stamp 1
    held.data[0] = 1;
    ps[2]!.output(one(2));
    ps[0]!.output(one(3));
    expect(c.consume()).toBe(1); // stamp 0 only
    expect(await c.poll(5)).toBe(0); // still held: poll sleeps and times out
    held.submit();
    expect(c.consume()).toBe(3);
    expect(events.map((e) => e[3])).toEqual([0, 1, 2, 3]);
  });

  it('a producer that reserved before the consumer looked holds it back even with nothing in its ring yet', async () => {
    const { ps, c, events } = await setup(2);
    const a = ps[0]!.reserve(1)!; // stamp 0, BUSY
    ps[1]!.output(one(1)); // stamp 1, committed, visible
    expect(c.consume()).toBe(0);
    a.data[0] = 0;
    a.submit();
    expect(c.consume()).toBe(2);
    expect(events.map((e) => e[3])).toEqual([0, 1]);
  });

  it('an idle producer holds nothing back', async () => {
    const { ps, c } = await setup(4); // slots 1..3 never write
    for (let i = 0; i < 100; i++) ps[0]!.output(one(i));
    expect(c.consume()).toBe(100);
  });

  it('two reservations open on one producer: held back until both commit', async () => {
    const { ps, c, events } = await setup(2);
    const a = ps[0]!.reserve(1)!;
    const b = ps[0]!.reserve(1)!;
    ps[1]!.output(one(2));
    a.data[0] = 0;
    a.submit();
    // LOW stays at the bound published for the first reservation until the
    // last one commits: even the producer's own committed record waits
    expect(c.consume()).toBe(0);
    b.data[0] = 1;
    b.discard();
    expect(c.consume()).toBe(2);
    // a discarded record leaves a gap in the stamps
    expect(events).toEqual([
      ['sample', 0, 0, 0],
      ['sample', 1, 2, 2],
    ]);
  });

  it('a poll asleep behind a held reservation wakes when it commits', async () => {
    const { ps, c } = await setup(2);
    const a = ps[0]!.reserve(1)!;
    ps[1]!.output(one(1));
    const p = c.poll(5_000);
    await new Promise((r) => setImmediate(r)); // let poll() arm and sleep
    const t0 = performance.now();
    a.submit();
    expect(await p).toBe(2);
    expect(performance.now() - t0).toBeLessThan(4_000);
  });

  it('stamps stay ordered across the 2^32 wrap of the counter', async () => {
    const { pb, ps, c, events } = await setup(2);
    Atomics.store(new Int32Array(pb.handle.control), 16, -6); // COUNTER (src/perfbuf/layout.ts, line 1): 3 stamps below the wrap
    c.close(); // a new consumer, to start from the new counter
    const c2 = new PerfBufferConsumer(pb, { sample: (d, p, s) => void events.push(['sample', p, s, d[0]!]) });
    for (let i = 0; i < 8; i++) ps[i % 2]!.output(one(i));
    expect(c2.consume()).toBe(8);
    expect(events.map((e) => e[3])).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const stamps = events.map((e) => e[2]);
    expect(stamps.every((s, i) => i === 0 || s === stamps[i - 1]! + 1)).toBe(true);
    expect(stamps[7]).toBeGreaterThan(2 ** 31 - 1);
  });

  it('reapProducer() lets the merge pass a producer that died holding a reservation', async () => {
    const { pb, ps, c, events } = await setup(2);
    ps[0]!.reserve(1); // never committed: its thread "died"
    ps[1]!.output(one(1));
    expect(c.consume()).toBe(0);
    expect(pb.reapProducer(0)).toBe(1);
    expect(c.consume()).toBe(1);
    expect(events).toEqual([['sample', 1, 1, 1]]);
    await expect(PerfBuffer.attach(pb.handle, 0)).resolves.toBeDefined();
  });
});

describe('lost samples', () => {
  it("are reported per producer, in stream order, before that producer's next record; trailing ones without waiting", async () => {
    const { ps, c, events } = await setup(2);
    const big = new Uint8Array(1000);
    big[0] = 7;
    let n = 0;
    while (ps[0]!.output(big)) n++;
    expect(n).toBe(4); // 4 × 1016 bytes fill 4096 - 1
    expect(ps[0]!.output(big)).toBe(false); // 2 refused so far
    ps[1]!.output(one(1));
    expect(c.consumeN(2)).toBe(2); // two of slot 0, then slot 1's waits
    expect(ps[0]!.output(big)).toBe(true); // room again
    expect(ps[0]!.output(big)).toBe(true);
    expect(ps[0]!.output(big)).toBe(false); // 3 refused
    expect(c.consume()).toBe(5);
    ps[0]!.output(big); // refused? no: all consumed, room
    for (let i = 0; i < 3; i++) ps[0]!.output(big);
    expect(ps[0]!.output(big)).toBe(false); // 4th refusal
    expect(ps[0]!.output(big)).toBe(false); // 5th
    expect(c.consume()).toBe(4);
    expect(c.consume()).toBe(0); // ring empty: the trailing losses are reported now
    const lostAt = events.flatMap((e, i) => (e[0] === 'lost' ? [[i, e[1], e[2]]] : []));
    // refusals 1-2 came after slot 0's 4th record (stamp 3): reported right before its next (stamp 5),
    // after slot 1's stamp 4. Refusal 3 came after its last record then (stamp 6): reported once the
    // ring was drained, not again with stamp 7. Refusals 4-5 likewise at the end.
    expect(lostAt).toEqual([
      [5, 0, 2],
      [8, 0, 1],
      [13, 0, 2],
    ]);
    expect(events[4]).toEqual(['sample', 1, 4, 1]);
    expect(events[6]).toEqual(['sample', 0, 5, 7]);
    expect(events[9]).toEqual(['sample', 0, 7, 7]);
    expect(c.lost()).toEqual([5, 0]);
    ps[0]!.output(big);
    c.consume();
    expect(c.lost()).toEqual([5, 0]); // not reported twice
    expect(events.filter((e) => e[0] === 'lost').length).toBe(3);
  });
});

describe('consume() while a producer keeps writing', () => {
  for (const ordered of [true, false]) {
    it(`ends, delivering what was reserved before it began (${ordered ? 'ordered' : 'unordered'})`, async () => {
      const pb = await PerfBuffer.create({ producers: 2, size: 4096 });
      const ps = [await PerfBuffer.attach(pb.handle, 0), await PerfBuffer.attach(pb.handle, 1)];
      let i = 0;
      // every record delivered makes its producer write another: a flood the consumer never outruns
      const c = new PerfBufferConsumer(pb, { ordered, sample: (_d, producer) => void ps[producer]!.output(one(i++)) });
      for (let j = 0; j < 10; j++) ps[j & 1]!.output(one(j));
      expect(c.consume()).toBe(10);
      expect(c.consume()).toBe(10);
      expect(c.consumeN(15)).toBe(15);
    });
  }
});

describe('unordered consumer', () => {
  it("keeps each producer's order and serves producers round-robin", async () => {
    const { ps, c, events } = await setup(2, { consumerOrdered: false });
    for (let i = 0; i < 40; i++) ps[0]!.output(one(i));
    for (let i = 0; i < 4; i++) ps[1]!.output(one(100 + i));
    expect(c.consumeN(20)).toBe(20);
    // 16 of slot 0 (one turn), then slot 1's 4
    expect(events.filter((e) => e[1] === 1).length).toBe(4);
    expect(c.consume()).toBe(24);
    expect(events.filter((e) => e[1] === 0).map((e) => e[3])).toEqual(Array.from({ length: 40 }, (_, i) => i));
  });

  it('reads a buffer created without stamps, and the ordered merge refuses it', async () => {
    const { pb, ps, c, events } = await setup(2, { ordered: false });
    expect(pb.maxRecord).toBe(4096 - 16);
    ps[1]!.output(one(1));
    ps[0]!.output(one(0));
    expect(c.consume()).toBe(2);
    expect(events.map((e) => e[2])).toEqual([-1, -1]);
    expect(() => new PerfBufferConsumer(pb, { sample: () => {}, ordered: true })).toThrow(/ordered/);
  });
});

describe('FairConsumer', () => {
  async function flooded() {
    const rings = [await RingBuffer.create({ size: 65536 }), await RingBuffer.create({ size: 65536 })];
    for (let i = 0; i < 1000; i++) rings[0]!.output(one(0));
    for (let i = 0; i < 10; i++) rings[1]!.output(one(1));
    return rings;
  }

  it('consumeN(n) gives every ring its turn where RingBufferConsumer drains the first ring first', async () => {
    const seen: number[] = [];
    const rings = await flooded();
    const fair = new FairConsumer({ quantum: 4 });
    for (const r of rings) fair.add(r, (d) => void seen.push(d[0]!));
    expect(fair.consumeN(20)).toBe(20);
    expect(seen.filter((b) => b === 1).length).toBe(8); // turns of 4: 0 1 0 1 0

    const unfair: number[] = [];
    const other = await flooded();
    const c = new RingBufferConsumer();
    for (const r of other) c.add(r, (d) => void unfair.push(d[0]!));
    c.consumeN(20);
    expect(unfair.filter((b) => b === 1).length).toBe(0); // the behaviour FairConsumer exists to fix
  });

  it('consume() ends while a ring keeps filling, and a callback can stop it', async () => {
    const rings = await flooded();
    let n = 0;
    const fair = new FairConsumer();
    fair.add(rings[0]!, () => {
      if (n++ < 50) rings[0]!.output(one(0)); // the producer keeps up with the consumer
    });
    let stops = 0;
    fair.add(rings[1]!, () => (stops++ === 0 ? -7 : undefined));
    expect(fair.consume()).toBe(-7);
    // the first call took 16 + 1; the second takes what the rings held when it began
    expect(fair.consume()).toBe(1000 + 9);
    expect(fair.consume()).toBe(50 - 16); // written during the second call
    expect(fair.consume()).toBe(0);
  });
});
