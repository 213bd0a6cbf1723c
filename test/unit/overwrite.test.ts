// Overwrite mode (the kernel's BPF_F_RB_OVERWRITE): a full ring drops its
// oldest committed records instead of refusing new ones, and the consumer
// learns how many it lost.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BPF_RB_AVAIL_DATA,
  BPF_RB_CONS_POS,
  BPF_RB_OVERWRITE_POS,
  BPF_RB_PROD_POS,
  BPF_RB_RING_SIZE,
  RingBuffer,
  RingBufferConsumer,
  type Reservation,
} from 'wasm-ringbuf';

describe('overwrite mode', () => {
  it('replays the kernel selftest ringbuf_overwrite_mode', async () => {
    // prog_tests/ringbuf.c with progs/test_ringbuf_overwrite.c
    const SIZE = 4096;
    const [LEN1, LEN2, LEN4, LEN5] = [2048, 1024, 992, 1000];
    const LEN3 = SIZE - LEN1 - LEN2 - 24;
    const rb = await RingBuffer.create({ size: SIZE, overwrite: true });
    const r1 = rb.reserve(LEN1);
    const r2 = rb.reserve(LEN2);
    const r3 = rb.reserve(LEN3); // fails: it would run over r1, still BUSY
    const r4 = rb.reserve(LEN4);
    expect([r1 === null, r2 === null, r3 === null, r4 === null]).toEqual([false, false, true, false]);
    r1!.submit();
    r2!.submit();
    r4!.submit();
    const r5 = rb.reserve(LEN5); // overwrites r1
    expect(r5).not.toBeNull();
    r5!.data.fill(5);
    r5!.submit();
    expect(rb.query(BPF_RB_RING_SIZE)).toBe(SIZE);
    expect(rb.query(BPF_RB_AVAIL_DATA)).toBe(LEN2 + LEN4 + LEN5 + 24);
    // the kernel leaves consumer_pos at 0 here; ours moves with the overwrite (docs/protocol.md)
    expect(rb.query(BPF_RB_CONS_POS)).toBe(LEN1 + 8);
    expect(rb.query(BPF_RB_PROD_POS)).toBe(LEN1 + LEN2 + LEN4 + LEN5 + 32);
    expect(rb.query(BPF_RB_OVERWRITE_POS)).toBe(LEN1 + 8);
    expect(rb.stats()).toMatchObject({ overwritten: 1, dropped: 1 });
    // the consumer our side adds: it skips what was overwritten and says so
    const got: { len: number; lost: number }[] = [];
    const c = new RingBufferConsumer(rb, (d, lost) => void got.push({ len: d.length, lost }));
    expect(c.consume()).toBe(3);
    // r1, overwritten, was lost just before r2, where the consumer starts; r3's refusal comes with r4,
    // the next record reserved after it
    expect(got).toEqual([
      { len: LEN2, lost: 1 },
      { len: LEN4, lost: 1 },
      { len: LEN5, lost: 0 },
    ]);
  });

  it('keeps the newest records of a flood, in order, and counts the rest', async () => {
    const rb = await RingBuffer.create({ size: 4096, overwrite: true });
    for (let i = 0; i < 1000; i++) {
      const r = rb.reserve(4 + (i % 50))!;
      new DataView(r.data.buffer, r.data.byteOffset).setUint32(0, i, true);
      r.submit();
    }
    const seen: number[] = [];
    let lost = 0;
    const c = new RingBufferConsumer(rb, (d, l) => {
      seen.push(new DataView(d.buffer, d.byteOffset).getUint32(0, true));
      lost += l;
    });
    c.consume();
    expect(seen.at(-1)).toBe(999);
    expect(seen).toEqual(Array.from({ length: seen.length }, (_, k) => 1000 - seen.length + k));
    expect(seen.length + lost).toBe(1000);
    expect(rb.stats().overwritten).toBe(lost);
    expect(rb.stats().dropped).toBe(0);
  });

  it('does not count discarded records as lost when it overwrites them', async () => {
    const rb = await RingBuffer.create({ size: 4096, overwrite: true });
    let submitted = 0;
    for (let i = 0; i < 400; i++) {
      const r = rb.reserve(48)!;
      if (i % 2) r.discard();
      else {
        r.submit();
        submitted++;
      }
    }
    rb.output(new Uint8Array(0)); // an end marker carries the losses after the last record
    submitted++;
    let delivered = 0;
    let lost = 0;
    new RingBufferConsumer(rb, (_, l) => {
      delivered++;
      lost += l;
    }).consume();
    expect(delivered + rb.stats().overwritten).toBe(submitted);
    expect(lost).toBe(rb.stats().overwritten);
  });

  it('never passes a record that is still BUSY, and refuses only when an eager pending walk would (many small records)', async () => {
    // The pending walk is lazy (assembly/ring.ts reserveLocked()): this holds some
    // records BUSY for many laps while small ones flood past, and checks each
    // reservation against a model whose bound is the oldest BUSY record itself.
    const SIZE = 4096;
    type Op = { t: 'reserve'; producer: number; len: number } | { t: 'commit'; pick: number; discard: boolean };
    const op: fc.Arbitrary<Op> = fc.oneof(
      {
        weight: 6,
        arbitrary: fc.record({
          t: fc.constant('reserve' as const),
          producer: fc.integer({ min: 0, max: 2 }),
          len: fc.oneof(
            { weight: 4, arbitrary: fc.integer({ min: 0, max: 24 }) },
            { weight: 1, arbitrary: fc.integer({ min: 0, max: 600 }) },
          ),
        }),
      },
      { weight: 5, arbitrary: fc.record({ t: fc.constant('commit' as const), pick: fc.nat(), discard: fc.boolean() }) },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 50, maxLength: 600 }), async (ops) => {
        const rb = await RingBuffer.create({ size: SIZE, overwrite: true });
        const producers = [rb, await RingBuffer.attach(rb.handle), await RingBuffer.attach(rb.handle)];
        let prod = 0;
        let refused = 0;
        let tag = 0;
        const busy: { pos: number; tag: number; r: Reservation }[] = [];
        for (const o of ops) {
          if (o.t === 'reserve') {
            const stride = (o.len + 15) & ~7;
            const pend = busy.length > 0 ? busy[0]!.pos : prod; // the oldest BUSY record, or nothing pending
            const r = producers[o.producer]!.reserve(o.len);
            if (prod + stride - pend > SIZE - 1) {
              expect(r).toBeNull();
              refused++;
            } else {
              expect(r).not.toBeNull();
              tag = (tag + 1) & 255;
              r!.data.fill(tag);
              busy.push({ pos: prod, tag, r: r! });
              prod += stride;
            }
          } else if (busy.length > 0) {
            // mostly a recent one: the oldest stay BUSY while the ring laps past them
            const i = o.pick % 16 === 0 ? 0 : busy.length - 1 - (o.pick % busy.length);
            const [b] = busy.splice(i, 1);
            expect(b!.r.data.every((x) => x === b!.tag)).toBe(true); // nobody wrote over it
            if (o.discard) b!.r.discard();
            else b!.r.submit();
          }
        }
        for (const b of busy) expect(b.r.data.every((x) => x === b.tag)).toBe(true);
        expect(rb.query(BPF_RB_PROD_POS)).toBe(prod);
        expect(rb.stats().dropped).toBe(refused);
      }),
      { numRuns: 200 },
    );
  });

  it('walks as far as a reservation needs: large records right after a ring of the smallest', async () => {
    const rb = await RingBuffer.create({ size: 4096, overwrite: true });
    for (let i = 0; i < 1000; i++) rb.output(new Uint8Array(0)); // 8 bytes each: two laps, all committed
    // from about the fifth on, each needs the walk to pass 77 of them, more than one stretch (WALK_STRETCH, 32)
    for (let i = 0; i < 20; i++) expect(rb.output(new Uint8Array(600).fill(i))).toBe(true);
    expect(rb.stats().dropped).toBe(0);
  });
});
