// The views the byte-taking calls accept, next to the ones they refuse
// (test/unit/bad-arguments.test.ts): an empty view is an empty record, not a
// view whose buffer was transferred away; any ArrayBufferView is bytes; and a
// buffer transferred away while outputAsync() waits for room leaves no record.
import { describe, expect, it } from 'vitest';
import { RingBuffer, RingBufferTypeError, readJSON, readText } from 'wasm-ringbuf';
import { drain } from '../helpers/run.js';

describe('views that are bytes', () => {
  it('empty views that still have their buffer are empty records', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    const tracking = new ArrayBuffer(8, { maxByteLength: 16 });
    const view = new Uint8Array(tracking); // follows the buffer's length
    tracking.resize(0);
    expect(rb.output(new Uint8Array(0))).toBe(true);
    expect(rb.output(new Uint8Array(new ArrayBuffer(8), 8, 0))).toBe(true);
    expect(rb.output(new DataView(new ArrayBuffer(0)))).toBe(true);
    expect(rb.output(new Float64Array(0))).toBe(true);
    expect(rb.output(view)).toBe(true);
    expect(rb.write(0, () => {})).toBe(true);
    expect(drain(rb)).toEqual([[], [], [], [], [], []]);
  });

  it('output() copies the bytes of any ArrayBufferView', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    const b = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(rb.output(new DataView(b.buffer, 2, 3))).toBe(true);
    expect(rb.output(new Uint16Array(b.buffer, 4, 2))).toBe(true);
    expect(drain(rb)).toEqual([
      [3, 4, 5],
      [5, 6, 7, 8],
    ]);
  });

  it('readText() and readJSON() read the bytes of any ArrayBufferView', () => {
    const bytes = new TextEncoder().encode('{"a":[1,2]}');
    expect(readText(new DataView(bytes.buffer))).toBe('{"a":[1,2]}');
    expect(readText(new DataView(bytes.buffer, 1, 3))).toBe('"a"');
    expect(readJSON(new Uint8Array(bytes.buffer))).toEqual({ a: [1, 2] });
    const even = new TextEncoder().encode('ab');
    expect(readText(new Uint16Array(even.buffer))).toBe('ab');
    expect(readText(new Uint8Array(0))).toBe('');
  });
});

describe('a buffer transferred away during a wait for room', () => {
  it('outputAsync() rejects with ERR_RINGBUF_TYPE and discards the record it reserved', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    while (rb.output(new Uint8Array(1000)));
    const buf = new ArrayBuffer(100);
    const pending = rb.outputAsync(new Uint8Array(buf), 0, { timeoutMs: 5000 });
    const settled = pending.then(
      () => 'resolved',
      (err: unknown) => err,
    );
    await new Promise((r) => setTimeout(r, 20)); // it waits now
    structuredClone(buf, { transfer: [buf] });
    const before = rb.stats().discarded;
    const full = drain(rb); // frees room: the wait ends
    expect(full.length).toBeGreaterThan(0);
    const err = await settled;
    expect(err).toBeInstanceOf(RingBufferTypeError);
    expect((err as RingBufferTypeError).code).toBe('ERR_RINGBUF_TYPE');
    expect((err as Error).message).toMatch(/transferred away/);
    expect(rb.stats().discarded).toBe(before + 1);
    expect(drain(rb)).toEqual([]); // nothing reserved is left behind: the consumer passes the discarded record
    expect(rb.output(new Uint8Array([9]))).toBe(true);
    expect(drain(rb)).toEqual([[9]]);
  });
});
