// Text and JSON records: exact UTF-8 lengths, both encoding paths (scratch
// and straight into the reservation), the waits, and the errors that leave
// the ring untouched.
import { describe, expect, it } from 'vitest';
import {
  BPF_RB_PROD_POS,
  PerfBuffer,
  PerfBufferConsumer,
  RingBuffer,
  RingBufferConsumer,
  readJSON,
  readText,
  utf8Length,
  writeJSON,
  writeJSONAsync,
  writeText,
  writeTextAsync,
} from 'wasm-ringbuf';

function collect(rb: RingBuffer) {
  const texts: string[] = [];
  const lengths: number[] = [];
  const c = new RingBufferConsumer(rb, (data) => {
    lengths.push(data.length);
    texts.push(readText(data));
  });
  return { c, texts, lengths };
}

const SAMPLES = [
  '',
  'plain ASCII',
  'é ü ß — two- and three-byte ✓ characters',
  'astral: 😀 𝄞 and a pair at the end 😀',
  '\uFEFFa leading byte-order mark is kept',
  'nul \u0000 and controls \u0001\u007f',
];

describe('utf8Length', () => {
  it('is the length TextEncoder writes, for every kind of code unit', () => {
    const lone = ['\ud800', 'a\udc00b', '\ud83d', 'x\ud83d', '\ude00\ud83d'];
    for (const s of [...SAMPLES, ...lone, 'é'.repeat(10_000), '😀'.repeat(5000)]) {
      expect(utf8Length(s), JSON.stringify(s.slice(0, 20))).toBe(new TextEncoder().encode(s).length);
    }
  });
});

describe('writeText / readText', () => {
  it('round-trips text of every kind, short (scratch) and long (straight into the reservation)', async () => {
    const rb = await RingBuffer.create({ size: 1 << 20 });
    const long = 'long é😀 '.repeat(2000); // 16000 units: past the scratch path
    const texts = [...SAMPLES, long, 'x'.repeat(8192), 'é'.repeat(8193)];
    for (const t of texts) expect(writeText(rb, t)).toBe(true);
    const { c, texts: got, lengths } = collect(rb);
    expect(c.consume()).toBe(texts.length);
    expect(got).toEqual(texts);
    expect(lengths).toEqual(texts.map((t) => new TextEncoder().encode(t).length)); // exactly the UTF-8 bytes, no padding
  });

  it('writes a lone surrogate as U+FFFD, as TextEncoder does', async () => {
    const rb = await RingBuffer.create({ size: 65536 });
    writeText(rb, 'a\ud800b');
    writeText(rb, 'c\ud800'.repeat(5000));
    const { c, texts } = collect(rb);
    c.consume();
    expect(texts).toEqual(['a\ufffdb', 'c\ufffd'.repeat(5000)]);
  });

  it('returns false and counts the refusal when the ring is full; waits for room with a timeout', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    let n = 0;
    while (writeText(rb, 'x'.repeat(100))) n++;
    expect(n).toBeGreaterThan(10);
    expect(rb.stats().dropped).toBe(1);
    const t0 = performance.now();
    expect(writeText(rb, 'x'.repeat(100), 0, 20)).toBe(false); // waited, then gave up (counted once)
    expect(performance.now() - t0).toBeGreaterThanOrEqual(15);
    expect(rb.stats().dropped).toBe(2);
    const { c } = collect(rb);
    c.consume();
    expect(writeText(rb, 'after', 0, 1000)).toBe(true);
  });

  it('throws, leaving the ring untouched, for text that can never fit, bad flags, or a non-string', async () => {
    const rb = await RingBuffer.create({ size: 4096, maxRecord: 64 });
    const before = rb.query(BPF_RB_PROD_POS);
    expect(() => writeText(rb, 'é'.repeat(33))).toThrow(
      expect.objectContaining({ name: 'RingBufferRangeError', code: 'ERR_RINGBUF_RANGE' }),
    );
    expect(() => writeText(rb, 'é'.repeat(9000))).toThrow(expect.objectContaining({ code: 'ERR_RINGBUF_RANGE' }));
    expect(() => writeText(rb, 'ok', 8)).toThrow(expect.objectContaining({ code: 'ERR_RINGBUF_FLAGS' }));
    expect(() => writeText(rb, 42 as unknown as string)).toThrow(
      expect.objectContaining({ name: 'RingBufferTypeError', code: 'ERR_RINGBUF_TYPE' }),
    );
    await expect(writeTextAsync(rb, 'ok', 8)).rejects.toMatchObject({ code: 'ERR_RINGBUF_FLAGS' });
    expect(rb.query(BPF_RB_PROD_POS)).toBe(before);
    expect(rb.stats().dropped).toBe(0);
    expect(writeText(rb, 'é'.repeat(32))).toBe(true); // exactly 64 bytes fits
  });

  it('discards the record when encoding into the reservation throws, so the consumer is never left waiting on it', async () => {
    const rb = await RingBuffer.create({ size: 1 << 16 });
    const long = 'straight into the reservation é '.repeat(400);
    expect(writeText(rb, long)).toBe(true); // (the runtime's encodeInto() into shared memory has been probed)
    const encodeInto = TextEncoder.prototype.encodeInto;
    TextEncoder.prototype.encodeInto = () => {
      throw new Error('encoder failure');
    };
    try {
      expect(() => writeText(rb, long)).toThrow('encoder failure');
      await expect(writeTextAsync(rb, 'async')).rejects.toThrow('encoder failure');
    } finally {
      TextEncoder.prototype.encodeInto = encodeInto;
    }
    expect(rb.stats().discarded).toBe(2);
    writeText(rb, 'after');
    const { c, texts } = collect(rb);
    expect(c.consume()).toBe(2);
    expect(texts).toEqual([long, 'after']);
  });

  it('writeTextAsync waits for room without blocking, and its signal ends the wait', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    while (writeText(rb, 'y'.repeat(200)));
    const ac = new AbortController();
    const pending = writeTextAsync(rb, 'waits for room é', 0, { signal: ac.signal });
    const { c, texts } = collect(rb);
    c.consume(); // frees the ring: the waiting write goes in
    await expect(pending).resolves.toBe(true);
    c.consume();
    expect(texts.at(-1)).toBe('waits for room é');
    while (writeText(rb, 'y'.repeat(200)));
    while (writeText(rb, 'z'));
    const aborted = writeTextAsync(rb, 'never', 0, { signal: ac.signal });
    ac.abort();
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('writes through a per-producer buffer too (no waiting there)', async () => {
    const pb = await PerfBuffer.create({ producers: 1, size: 4096 });
    const producer = await PerfBuffer.attach(pb.handle, 0);
    expect(writeJSON(producer, { a: 1 })).toBe(true);
    expect(() => writeText(producer, 'x', 0, 10)).toThrow(expect.objectContaining({ code: 'ERR_RINGBUF_TYPE' }));
    const got: unknown[] = [];
    const c = new PerfBufferConsumer(pb, { sample: (data: Uint8Array) => void got.push(readJSON(data)) });
    c.consume();
    expect(got).toEqual([{ a: 1 }]);
    c.close();
  });
});

describe('writeJSON / readJSON', () => {
  it('round-trips values, refuses what JSON cannot represent, and surfaces bad JSON as a SyntaxError', async () => {
    const rb = await RingBuffer.create({ size: 8192 });
    const values = [{ level: 30, msg: 'hello é😀', n: [1, 2.5, null], nested: { ok: true } }, 'a string', 42, null, []];
    for (const v of values) expect(writeJSON(rb, v)).toBe(true);
    await expect(writeJSONAsync(rb, { async: true })).resolves.toBe(true);
    expect(() => writeJSON(rb, undefined)).toThrow(expect.objectContaining({ code: 'ERR_RINGBUF_TYPE' }));
    expect(() => writeJSON(rb, () => 1)).toThrow(expect.objectContaining({ code: 'ERR_RINGBUF_TYPE' }));
    expect(() => writeJSON(rb, { big: 1n })).toThrow(TypeError);
    await expect(writeJSONAsync(rb, undefined)).rejects.toMatchObject({ code: 'ERR_RINGBUF_TYPE' });
    const got: unknown[] = [];
    const c = new RingBufferConsumer(rb, (data) => void got.push(readJSON(data)));
    expect(c.consume()).toBe(values.length + 1);
    expect(got).toEqual([...values, { async: true }]);
    writeText(rb, '{not json');
    expect(() => c.consume()).toThrow(SyntaxError);
  });
});
