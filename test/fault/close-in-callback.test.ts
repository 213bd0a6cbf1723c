// A consumer closed from inside its own callback stops there: no record after
// that one is handed to it, and the ring is left at the record after it, so
// that the next consumer of the ring (also one taken inside that callback)
// reads exactly the rest, without a RingBufferCorruptError.
import { describe, expect, it } from 'vitest';
import {
  FairConsumer,
  PerfBuffer,
  PerfBufferConsumer,
  RingBuffer,
  RingBufferConsumer,
  type RingBufferStateError,
} from 'wasm-ringbuf';

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k);

/** Runs a pass of a consumer that was closed inside it: whatever it returns, or ERR_RINGBUF_CLOSED. */
async function pass(run: () => number | Promise<number>): Promise<void> {
  try {
    await run();
  } catch (err) {
    if ((err as RingBufferStateError).code !== 'ERR_RINGBUF_CLOSED') throw err;
  }
}

async function ringOf(n: number, tag = 0): Promise<RingBuffer> {
  const rb = await RingBuffer.create({ size: 4096 });
  for (let i = 0; i < n; i++) expect(rb.output(new Uint8Array([tag, i]))).toBe(true);
  return rb;
}

describe('close() inside a RingBufferConsumer callback', () => {
  const ways: [string, (c: RingBufferConsumer) => number | Promise<number>][] = [
    ['consume()', (c) => c.consume()],
    ['consumeN(100)', (c) => c.consumeN(100)],
    ['poll(-1)', (c) => c.poll(-1)],
    ['pollSync(0)', (c) => c.pollSync(0)],
  ];
  for (const [name, run] of ways) {
    it(`${name}: 10 records, closed at record 3: it is handed 0..3; a new consumer then reads exactly 4..9`, async () => {
      const rb = await ringOf(10);
      const got: number[] = [];
      const c: RingBufferConsumer = new RingBufferConsumer(rb, (d) => {
        got.push(d[1]!);
        if (d[1] === 3) c.close();
      });
      await pass(() => run(c));
      expect(got, 'records handed to the consumer closed at record 3').toEqual([0, 1, 2, 3]);
      const rest: number[] = [];
      const next = new RingBufferConsumer(rb, (d) => void rest.push(d[1]!));
      expect(next.consume()).toBe(6);
      expect(rest).toEqual(range(4, 10));
      next.close();
    });
  }

  it('the zero-allocation callback (addRaw) alike', async () => {
    const rb = await ringOf(10);
    const got: number[] = [];
    const c: RingBufferConsumer = new RingBufferConsumer().addRaw(rb, (bytes, offset) => {
      got.push(bytes[offset + 1]!);
      if (bytes[offset + 1] === 3) c.close();
    });
    await pass(() => c.consume());
    expect(got).toEqual([0, 1, 2, 3]);
    const rest: number[] = [];
    new RingBufferConsumer(rb, (d) => void rest.push(d[1]!)).consume();
    expect(rest).toEqual(range(4, 10));
  });

  it('a new consumer taken inside the callback, right after close(), reads exactly 4..9 (no RingBufferCorruptError)', async () => {
    const rb = await ringOf(10);
    const got: number[] = [];
    const rest: number[] = [];
    let next: RingBufferConsumer | undefined;
    const c: RingBufferConsumer = new RingBufferConsumer(rb, (d) => {
      got.push(d[1]!);
      if (d[1] === 3) {
        c.close();
        next = new RingBufferConsumer(rb, (e) => void rest.push(e[1]!)); // the ring was given up: it may be taken at once
      }
    });
    await pass(() => c.consume());
    expect(next).toBeDefined();
    expect(() => next!.consume()).not.toThrow();
    expect(rest, 'records read by the consumer taken inside the callback').toEqual(range(4, 10));
    expect(got).toEqual([0, 1, 2, 3]);
    next!.close();
  });

  it('in overwrite mode alike', async () => {
    const rb = await RingBuffer.create({ size: 4096, overwrite: true });
    for (let i = 0; i < 10; i++) rb.output(new Uint8Array([0, i]));
    const got: number[] = [];
    const c: RingBufferConsumer = new RingBufferConsumer(rb, (d) => {
      got.push(d[1]!);
      if (d[1] === 3) c.close();
    });
    await pass(() => c.consume());
    expect(got).toEqual([0, 1, 2, 3]);
    const rest: { i: number; lost: number }[] = [];
    new RingBufferConsumer(rb, (d, lost) => void rest.push({ i: d[1]!, lost })).consume();
    expect(rest).toEqual(range(4, 10).map((i) => ({ i, lost: 0 })));
  });
});

describe('close() inside a FairConsumer callback', () => {
  it('two rings served round-robin, closed at the fifth record: it is handed five; a new FairConsumer reads exactly the rest of each ring', async () => {
    const rings = [await ringOf(10, 0), await ringOf(10, 1)];
    const got: [number, number][] = [];
    const fair = new FairConsumer({ quantum: 2 });
    const cb = (d: Uint8Array) => {
      got.push([d[0]!, d[1]!]);
      if (got.length === 5) fair.close();
    };
    for (const r of rings) fair.add(r, cb);
    await pass(() => fair.consume());
    expect(got, 'records handed to the consumer closed at its fifth').toHaveLength(5);
    const rest: [number, number][] = [];
    const next = new FairConsumer({ quantum: 2 });
    for (const r of rings) next.add(r, (d) => void rest.push([d[0]!, d[1]!]));
    expect(() => next.consume()).not.toThrow();
    for (const ring of [0, 1]) {
      const seen = [...got, ...rest].filter(([r]) => r === ring).map(([, i]) => i);
      expect(seen, `ring ${ring}: each record once, in order`).toEqual(range(0, 10));
    }
    next.close();
  });
});

describe('close() inside a PerfBufferConsumer sample callback', () => {
  for (const ordered of [true, false]) {
    it(`${ordered ? 'ordered merge' : 'unordered'}: two producers, closed at the fifth record: it is handed five; a new consumer reads exactly the rest`, async () => {
      const pb = await PerfBuffer.create({ producers: 2, size: 4096, ordered });
      const producers = [await PerfBuffer.attach(pb.handle, 0), await PerfBuffer.attach(pb.handle, 1)];
      for (let i = 0; i < 10; i++)
        for (const [slot, p] of producers.entries()) expect(p.output(new Uint8Array([slot, i]))).toBe(true);
      const got: [number, number][] = [];
      const c: PerfBufferConsumer = new PerfBufferConsumer(pb, {
        sample: (d) => {
          got.push([d[0]!, d[1]!]);
          if (got.length === 5) c.close();
        },
      });
      await pass(() => c.consume());
      expect(got, 'records handed to the consumer closed at its fifth').toHaveLength(5);
      const rest: [number, number][] = [];
      const next = new PerfBufferConsumer(pb, { sample: (d) => void rest.push([d[0]!, d[1]!]) });
      expect(() => next.consume()).not.toThrow();
      if (ordered) {
        // one global order: slot 0's record i, then slot 1's, for each i
        expect([...got, ...rest]).toEqual(
          range(0, 10).flatMap((i) => [
            [0, i],
            [1, i],
          ]),
        );
      } else {
        for (const slot of [0, 1]) {
          expect(
            [...got, ...rest].filter(([s]) => s === slot).map(([, i]) => i),
            `slot ${slot}`,
          ).toEqual(range(0, 10));
        }
      }
      next.close();
    });
  }
});
