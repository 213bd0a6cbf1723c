// Property-based: random sequences of reserve, submit, discard, consume and
// query from several producers, checked step by step against a plain model
// of the ring (positions, the space rule, what the consumer receives).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BPF_RB_AVAIL_DATA,
  BPF_RB_CONS_POS,
  BPF_RB_PROD_POS,
  BPF_RB_RING_SIZE,
  RingBuffer,
  RingBufferConsumer,
  type Reservation,
} from 'wasm-ringbuf';

type Op =
  | { t: 'reserve'; producer: number; len: number }
  | { t: 'commit'; pick: number; discard: boolean; flags: 0 | 1 | 2 }
  | { t: 'consume'; n: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant('reserve' as const),
      producer: fc.integer({ min: 0, max: 2 }),
      len: fc.integer({ min: 0, max: 900 }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant('commit' as const),
      pick: fc.nat(),
      discard: fc.boolean(),
      flags: fc.constantFrom(0 as const, 1 as const, 2 as const),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('consume' as const),
      n: fc.oneof(fc.integer({ min: 1, max: 4 }), fc.constant(Infinity)),
    }),
  },
);

interface ModelRecord {
  tag: number;
  len: number;
  stride: number;
  snap: number;
  state: 'busy' | 'committed' | 'discarded';
}

describe('the ring against a model', () => {
  it('agrees on every step of random operation sequences', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 120 }), fc.constantFrom(0, 2 ** 32 - 2048), async (ops, start) => {
        const SIZE = 4096;
        const rb = await RingBuffer.create({ size: SIZE, position: start });
        const producers = [rb, await RingBuffer.attach(rb.handle), await RingBuffer.attach(rb.handle)];
        const got: { tag: number; len: number; lost: number }[] = [];
        const consumer = new RingBufferConsumer(
          rb,
          (data, lost) => void got.push({ tag: data[0] ?? -1, len: data.length, lost }),
        );
        // the model
        let prod = start;
        let cons = start;
        let dropped = 0;
        let lastSnap = 0;
        let tag = 0;
        const queue: ModelRecord[] = [];
        const pending: { rec: ModelRecord; r: Reservation }[] = [];

        for (const o of ops) {
          if (o.t === 'reserve') {
            const stride = (o.len + 15) & ~7;
            const r = producers[o.producer]!.reserve(o.len);
            if (prod + stride - cons > SIZE - 1) {
              expect(r).toBeNull();
              dropped++;
            } else {
              expect(r).not.toBeNull();
              const rec: ModelRecord = { tag: ++tag & 255, len: o.len, stride, snap: dropped, state: 'busy' };
              r!.data.fill(rec.tag);
              queue.push(rec);
              pending.push({ rec, r: r! });
              prod += stride;
            }
          } else if (o.t === 'commit') {
            if (pending.length === 0) continue;
            const [{ rec, r }] = pending.splice(o.pick % pending.length, 1) as [{ rec: ModelRecord; r: Reservation }];
            if (o.discard) r.discard(o.flags);
            else r.submit(o.flags);
            rec.state = o.discard ? 'discarded' : 'committed';
          } else {
            const want: { tag: number; len: number; lost: number }[] = [];
            while (queue.length > 0 && queue[0]!.state !== 'busy' && want.length < o.n) {
              const rec = queue.shift()!;
              cons += rec.stride;
              if (rec.state === 'committed') {
                want.push({ tag: rec.len ? rec.tag : -1, len: rec.len, lost: rec.snap - lastSnap });
                lastSnap = rec.snap;
              }
            }
            got.length = 0;
            expect(o.n === Infinity ? consumer.consume() : consumer.consumeN(o.n)).toBe(want.length);
            expect(got).toEqual(want);
          }
          expect(rb.query(BPF_RB_PROD_POS)).toBe(prod);
          expect(rb.query(BPF_RB_CONS_POS)).toBe(cons);
          expect(rb.query(BPF_RB_AVAIL_DATA)).toBe(prod - cons);
          expect(rb.query(BPF_RB_RING_SIZE)).toBe(SIZE);
          expect(rb.stats().dropped).toBe(dropped);
        }
      }),
      { numRuns: 150 },
    );
  });
});
