import { describe, expect, it } from 'vitest';
import {
  BPF_RB_PROD_POS,
  RingBuffer,
  RingBufferConsumer,
  RingBufferRangeError,
  RingBufferTypeError,
  type RingBufferHandle,
} from 'wasm-ringbuf';

/** Everything a bad call could have changed. */
async function snapshot(rb: RingBuffer) {
  return { prod: rb.query(BPF_RB_PROD_POS), stats: rb.stats() };
}

describe('create() rejects bad options with a typed error', () => {
  const cases: [unknown, ErrorConstructor | RangeErrorConstructor | TypeErrorConstructor, RegExp][] = [
    [undefined, TypeError, /options object/],
    [{ size: '4096' }, TypeError, /size must be a number; got "4096"/],
    [{ size: NaN }, RangeError, /size must be an integer/],
    [{ size: -4096 }, RangeError, /size must be an integer/],
    [{ size: 4096.5 }, RangeError, /size must be an integer/],
    [{ size: 3000 }, RangeError, /power of two.*got 3000\. Try 4096/],
    [{ size: 2048 }, RangeError, /power of two from 4096/],
    [{ size: 2 ** 31 }, RangeError, /power of two from 4096 to 2\^30/],
    [{ size: 4096, maxRecord: 4081 }, RangeError, /largest payload of a 4096-byte ring is 4080/],
    [{ size: 4096, maxRecord: -1 }, RangeError, /maxRecord/],
    [{ size: 4096, claim: 'cas' } as never, TypeError, /claim option was removed/],
    [{ size: 4096, position: 12 }, RangeError, /multiple of 8/],
  ];
  for (const [options, type, message] of cases) {
    it(`${JSON.stringify(options) ?? 'undefined'}`, async () => {
      const p = RingBuffer.create(options as never);
      await expect(p).rejects.toThrow(type);
      await expect(p).rejects.toThrow(message);
    });
  }
});

describe('bad input to a ring is an error and leaves the ring untouched', () => {
  const badLengths: [unknown, typeof TypeError | typeof RangeError][] = [
    ['8', TypeError],
    [NaN, RangeError],
    [-1, RangeError],
    [1.5, RangeError],
    [4081, RangeError],
    [Infinity, RangeError],
    [8n, TypeError],
    [null, TypeError],
  ];
  for (const [len, type] of badLengths) {
    it(`reserve(${String(len)})`, async () => {
      const rb = await RingBuffer.create({ size: 4096 });
      const before = await snapshot(rb);
      expect(() => rb.reserve(len as number)).toThrow(type);
      expect(() => rb.reserveRaw(len as number)).toThrow(type);
      expect(await snapshot(rb)).toEqual(before);
    });
  }

  const badFlags: [unknown, typeof TypeError | typeof RangeError][] = [
    [4, RangeError],
    [8, RangeError],
    [0x80000000, RangeError],
    [-1, RangeError],
    [1.5, RangeError],
    ['1', TypeError],
    [NaN, RangeError],
  ];
  for (const [flags, type] of badFlags) {
    it(`commit flags ${String(flags)}`, async () => {
      const rb = await RingBuffer.create({ size: 4096 });
      const before = await snapshot(rb);
      expect(() => rb.output(new Uint8Array(4), flags as number)).toThrow(type);
      expect(await snapshot(rb)).toEqual(before);
      const r = rb.reserve(4)!;
      expect(() => r.submit(flags as number)).toThrow(/unknown commit flags|must be a number/);
      expect(r.committed).toBe(false); // still pending: a valid submit goes through
      r.submit(0);
      const off = rb.reserveRaw(4);
      expect(() => rb.submitRaw(off, flags as number)).toThrow(type);
      rb.submitRaw(off);
      const got: number[] = [];
      new RingBufferConsumer(rb, (d) => void got.push(d.length)).consume();
      expect(got).toEqual([4, 4]);
    });
  }

  it('output() of something that is not bytes', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    const before = await snapshot(rb);
    expect(() => rb.output([1, 2, 3] as unknown as Uint8Array)).toThrow(RingBufferTypeError);
    expect(() => rb.output(new Uint8Array(5000))).toThrow(/largest payload is 4080 bytes/);
    expect(await snapshot(rb)).toEqual(before);
  });

  it('query() of an unknown key', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    expect(() => rb.query(5 as never)).toThrow(RingBufferRangeError);
    expect(() => rb.query('0' as never)).toThrow(RingBufferTypeError);
  });

  it('a raw commit of an offset that was never reserved', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    const before = await snapshot(rb);
    for (const off of [0, 8, rb.bytes.length, 65536 + 4096 + 8])
      expect(() => rb.submitRaw(off)).toThrow(/not a pending reservation/);
    expect(await snapshot(rb)).toEqual(before);
  });

  it('consumer arguments', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    expect(() => new RingBufferConsumer(rb, 'f' as never)).toThrow(RingBufferTypeError);
    expect(() => new RingBufferConsumer().add({} as never, () => {})).toThrow(/takes a RingBuffer/);
    const c = new RingBufferConsumer(rb, () => {});
    expect(() => c.consumeN(-1)).toThrow(RingBufferRangeError);
    expect(() => c.consumeN(1.5)).toThrow(RingBufferRangeError);
    await expect(c.poll(-2)).rejects.toThrow(RangeError);
    await expect(c.poll('1' as never)).rejects.toThrow(TypeError);
    expect(() => c.pollSync(NaN)).toThrow(RangeError);
  });
});

describe('attach() rejects what is not a handle', () => {
  it('each malformed handle', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    const h = rb.handle;
    const plain = new WebAssembly.Memory({ initial: 2, maximum: 2 });
    const emptyShared = new WebAssembly.Memory({ initial: 2, maximum: 2, shared: true });
    const bad: [unknown, RegExp][] = [
      [null, /got null/],
      [42, /got 42/],
      [{}, /kind is not/],
      [{ ...h, kind: 'other' }, /kind is not/],
      [{ ...h, version: 99 }, /layout version 99/],
      [{ ...h, memory: {} }, /not a WebAssembly.Memory/],
      [{ ...h, memory: plain }, /not shared/],
      [{ ...h, module: {} }, /not a WebAssembly.Module/],
      [{ ...h, ctl: 13 }, /not a control block address/],
      [{ ...h, ctl: 0 }, /no ring at ctl/],
      [{ ...h, memory: emptyShared }, /no ring at ctl|not a control block/],
    ];
    for (const [handle, message] of bad) {
      const p = RingBuffer.attach(handle as RingBufferHandle);
      await expect(p).rejects.toThrow(RingBufferTypeError);
      await expect(p).rejects.toThrow(message);
    }
    const again = await RingBuffer.attach(structuredClone(h));
    expect(again.size).toBe(4096);
    expect(again.producerId).not.toBe(rb.producerId);
  });
});
