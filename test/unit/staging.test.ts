// A small reservation's `data` is the producer's staging bytes, copied into
// the record by submit() (src/reservation.ts). Whatever way a record is
// filled, the consumer gets exactly what was written, and no reservation's
// bytes reach another's.
import { describe, expect, it } from 'vitest';
import { RingBuffer } from 'wasm-ringbuf';
import { drain } from '../helpers/run.js';
import { STAGE_BYTES, STAGE_IDS } from '../../dist/layout.js';

const bytes = (n: number, first: number): number[] => Array.from({ length: n }, (_, i) => (first + i) & 0xff);

describe('staged reservations', () => {
  it('a small record is filled in the staging bytes and lands in the ring at submit()', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    const r = rb.reserve(16)!;
    expect(r.data.byteOffset).toBe(rb.core.stagingAt(rb.producerId));
    expect(r.data.length).toBe(16);
    r.data.set(bytes(16, 1));
    expect([...rb.bytes.subarray(r.offset, r.offset + 16)]).not.toEqual(bytes(16, 1)); // not yet in the ring
    r.submit();
    expect(drain(rb)).toEqual([bytes(16, 1)]);
  });

  it('reservations held at once, of one length, each get their own bytes', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    const rs = [0, 1, 2].map(() => rb.reserve(8)!);
    rs.forEach((r, i) => void r.data.set(bytes(8, 10 * i)));
    expect(new Set(rs.map((r) => r.data.byteOffset)).size).toBe(3);
    for (const r of [rs[2]!, rs[0]!, rs[1]!]) r.submit();
    expect(drain(rb)).toEqual([bytes(8, 0), bytes(8, 10), bytes(8, 20)]);
  });

  it('after a submit or a discard, the next reservation is staged again; a discarded one leaves nothing', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    const at = rb.core.stagingAt(rb.producerId);
    const a = rb.reserve(4)!;
    a.data.set([9, 9, 9, 9]);
    a.discard();
    const b = rb.reserve(4)!;
    expect(b.data.byteOffset).toBe(at);
    b.data.set([1, 2, 3, 4]);
    b.submit();
    const c = rb.reserve(6)!;
    expect(c.data.byteOffset).toBe(at);
    c.data.set([5, 6, 7, 8, 9, 10]);
    c.submit();
    expect(drain(rb)).toEqual([
      [1, 2, 3, 4],
      [5, 6, 7, 8, 9, 10],
    ]);
  });

  it('a record written at its offset in rb.bytes, its data never read, is what the consumer gets', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    const r = rb.reserve(5)!;
    rb.bytes.set([5, 4, 3, 2, 1], r.offset);
    r.submit();
    expect(drain(rb)).toEqual([[5, 4, 3, 2, 1]]);
  });

  it('records larger than the staging bytes, and producers past the staged ids, are filled in the ring itself', async () => {
    const rb = await RingBuffer.create({ size: 8192 });
    const big = rb.reserve(STAGE_BYTES + 1)!;
    expect(big.data.byteOffset).toBe(big.offset);
    big.data.set(bytes(STAGE_BYTES + 1, 3));
    big.submit();
    const others: RingBuffer[] = [];
    let late: RingBuffer | undefined;
    while (late === undefined) {
      const p = await RingBuffer.attach(rb.handle);
      if (p.producerId >= STAGE_IDS) late = p;
      else others.push(p);
    }
    expect(rb.core.stagingAt(late.producerId)).toBe(0);
    const r = late.reserve(3)!;
    expect(r.data.byteOffset).toBe(r.offset);
    r.data.set([7, 8, 9]);
    r.submit();
    expect(drain(rb)).toEqual([bytes(STAGE_BYTES + 1, 3), [7, 8, 9]]);
    for (const p of [...others, late]) p.close();
  });

  it('write() and `using` fill through staging and leave nothing taken when the fill throws', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    expect(() =>
      rb.write(4, (d) => {
        d.set([1, 1, 1, 1]);
        throw new Error('fill failed');
      }),
    ).toThrow('fill failed');
    {
      using r = rb.reserve(4)!;
      r.data.set([2, 2, 2, 2]);
    } // disposed: discarded
    expect(rb.write(4, (d) => d.set([3, 4, 5, 6]))).toBe(true);
    const r = rb.reserve(2)!;
    expect(r.data.byteOffset).toBe(rb.core.stagingAt(rb.producerId));
    r.data.set([7, 7]);
    r.submit();
    expect(drain(rb)).toEqual([
      [3, 4, 5, 6],
      [7, 7],
    ]);
  });

  it('close() with a staged reservation pending keeps the id until that reservation is committed', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    const p = await RingBuffer.attach(rb.handle);
    const r = p.reserve(8)!;
    r.data.set([1, 2, 3, 4, 5, 6, 7, 8]);
    p.close();
    const next = await RingBuffer.attach(rb.handle); // may not take p's id: its staging bytes hold r's payload
    expect(next.producerId).not.toBe(p.producerId);
    next.reserve(8)!.data.fill(9);
    r.submit();
    expect(drain(rb)).toEqual([[1, 2, 3, 4, 5, 6, 7, 8]]); // next's reservation is pending after it
    const after = await RingBuffer.attach(rb.handle); // the id is free now
    expect(after.producerId).toBe(p.producerId);
    for (const x of [next, after]) x.close();
  });

  it("a producer closed after its reap gives back no id: the reap did, and it may be another producer's", async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    const p = await RingBuffer.attach(rb.handle);
    rb.reapProducer(p.producerId);
    const heir = await RingBuffer.attach(rb.handle);
    expect(heir.producerId).toBe(p.producerId);
    p.close();
    expect(rb.core.idInUse(heir.producerId)).toBe(true);
    expect(heir.output(new Uint8Array([4]))).toBe(true);
    expect(drain(rb)).toEqual([[4]]);
    heir.close();
  });

  it('producers on one ring have staging bytes apart', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    const other = await RingBuffer.attach(rb.handle);
    const a = rb.reserve(STAGE_BYTES)!;
    const b = other.reserve(STAGE_BYTES)!;
    a.data.fill(0xaa);
    b.data.fill(0xbb);
    b.submit();
    a.submit();
    expect(drain(rb)).toEqual([Array(STAGE_BYTES).fill(0xaa), Array(STAGE_BYTES).fill(0xbb)]);
    other.close();
  });
});
