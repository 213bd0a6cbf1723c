// Iterators and streams over a ring: every record from real worker
// producers, each way out (break, return(), cancel(), the signal, until)
// releasing the ring, losses reported, and the WritableStream's backpressure
// being the ring's room.
import { execFile } from 'node:child_process';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  RingBuffer,
  RingBufferConsumer,
  createReadableStream,
  createWritableStream,
  readBatches,
  readJSON,
  readRecords,
  readText,
  writeText,
} from 'wasm-ringbuf';
import { checkLines, jsonProducers, type Line } from './helpers.js';

const PRODUCERS = 2;
const COUNT = 5000; // ~60 B records through a 16 KiB ring: about 35 laps

/** Fills the ring to the last byte (each loop ends with one refusal, counted). */
function fill(rb: RingBuffer): void {
  while (writeText(rb, 'x'.repeat(100)));
  while (writeText(rb, '')); // an empty record is a header alone: this takes the last few bytes
}

/** A ring nobody consumes any more: a new consumer may take it. */
function released(rb: RingBuffer): boolean {
  try {
    new RingBufferConsumer(rb, () => {}).close();
    return true;
  } catch {
    return false;
  }
}

describe('readRecords', () => {
  it('yields every record of worker producers in order, as copies or mapped, and ends with until', async () => {
    const rb = await RingBuffer.create({ size: 1 << 14 });
    const done = jsonProducers(rb.handle, PRODUCERS, COUNT);
    const lines: Line[] = [];
    const it = readRecords(rb, { map: readJSON<Line>, until: done });
    for await (const line of it) lines.push(line);
    checkLines(lines, PRODUCERS, COUNT);
    expect(it.lost).toBe(0);
    expect(released(rb)).toBe(true);
  });

  it('yields copies by default: they outlive the callback and the ring moving on', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    const kept: Uint8Array[] = [];
    for (let lap = 0; lap < 20; lap++) {
      for (let i = 0; i < 10; i++) writeText(rb, `lap ${lap} record ${i} ${'x'.repeat(100)}`);
      const it = readRecords(rb);
      for (let i = 0; i < 10; i++) {
        const { value } = await it.next();
        expect(value!.buffer).not.toBeInstanceOf(SharedArrayBuffer);
        kept.push(value!);
      }
      await it.return();
    }
    expect(kept.map((b) => new TextDecoder().decode(b).split(' x')[0])).toEqual(
      Array.from({ length: 200 }, (_, k) => `lap ${Math.floor(k / 10)} record ${k % 10}`),
    );
  });

  it('break and return() close the consumer, also while a next() is pending', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    writeText(rb, 'one');
    for await (const r of readRecords(rb, { map: readText })) {
      expect(r).toBe('one');
      break;
    }
    expect(released(rb)).toBe(true);
    const it = readRecords(rb);
    const pending = it.next(); // nothing to read: it waits
    expect(released(rb)).toBe(false);
    await expect(it.return()).resolves.toEqual({ done: true, value: undefined });
    await expect(pending).resolves.toEqual({ done: true, value: undefined });
    expect(released(rb)).toBe(true);
  });

  it('rejects a pending next() with the signal reason and releases the ring', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    const ac = new AbortController();
    const it = readRecords(rb, { signal: ac.signal });
    const pending = it.next();
    ac.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    expect(released(rb)).toBe(true);
    await expect(it.next()).resolves.toMatchObject({ done: true });
    // a signal aborted before the first read
    const it2 = readRecords(rb, { signal: AbortSignal.abort() });
    await expect(it2.next()).rejects.toMatchObject({ name: 'AbortError' });
    expect(released(rb)).toBe(true);
  });

  it('reports losses: it.lost sums what the ring refused, and map sees each count', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    fill(rb);
    writeText(rb, 'refused too');
    const refused = rb.stats().dropped;
    expect(refused).toBe(3); // one per loop of fill(), and this one
    // fill()'s first refusal is reported with the first empty record after it; the last two
    // (the end of its second loop, and 'refused too') with the next record written
    const it = readRecords(rb, { map: (_data, lost) => lost, until: Promise.resolve() });
    const perRecord: number[] = [];
    for await (const lost of it) perRecord.push(lost);
    expect(perRecord.filter((n) => n !== 0)).toEqual([1]);
    expect(it.lost).toBe(1);
    writeText(rb, 'after');
    const it2 = readRecords(rb, { map: (_data, lost) => lost, until: Promise.resolve() });
    const after: number[] = [];
    for await (const lost of it2) after.push(lost);
    expect(after).toEqual([2]);
    expect(it.lost + it2.lost).toBe(refused);
  });

  it('hands out the records a pass took before a map() that throws, then the error', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    for (const t of ['{"a":1}', '{"a":2}', 'not json', '{"a":4}']) writeText(rb, t);
    const got: unknown[] = [];
    const it = readRecords(rb, { map: readJSON });
    await expect(
      (async () => {
        for await (const v of it) got.push(v);
      })(),
    ).rejects.toThrow(SyntaxError);
    expect(got).toEqual([{ a: 1 }, { a: 2 }]);
    expect(released(rb)).toBe(true);
  });

  it('refuses a second reader of the same ring, and bad options, with typed errors', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    const it = readRecords(rb);
    expect(() => readRecords(rb)).toThrow(expect.objectContaining({ code: 'ERR_RINGBUF_CONSUMER_TAKEN' }));
    it.close();
    expect(() => readRecords(rb, { maxBatch: 0 })).toThrow(expect.objectContaining({ code: 'ERR_RINGBUF_RANGE' }));
    expect(() => readRecords(rb, { map: 1 as never })).toThrow(expect.objectContaining({ code: 'ERR_RINGBUF_TYPE' }));
    expect(() => readRecords({} as RingBuffer)).toThrow(expect.objectContaining({ code: 'ERR_RINGBUF_TYPE' }));
    expect(released(rb)).toBe(true);
  });
});

describe('readBatches', () => {
  it('yields each pass as one array of at most maxBatch records, every record once, across several rings', async () => {
    const a = await RingBuffer.create({ size: 1 << 14 });
    const b = await RingBuffer.create({ size: 1 << 14 });
    const done = Promise.all([jsonProducers(a.handle, 1, COUNT), jsonProducers(b.handle, 1, COUNT, true, 1)]);
    const lines: Line[] = [];
    let batches = 0;
    for await (const batch of readBatches([a, b], { map: readJSON<Line>, maxBatch: 100, until: done })) {
      expect(batch.length).toBeGreaterThan(0);
      expect(batch.length).toBeLessThanOrEqual(100);
      batches++;
      lines.push(...batch);
    }
    checkLines(lines, 2, COUNT); // worker 0 wrote ring a, worker 1 ring b: each ring in its order
    expect(batches).toBeGreaterThanOrEqual((2 * COUNT) / 100);
  });
});

describe('createReadableStream', () => {
  it('streams every record; Readable.fromWeb reads it in Node', async () => {
    const rb = await RingBuffer.create({ size: 1 << 14 });
    const done = jsonProducers(rb.handle, PRODUCERS, COUNT);
    const lines: Line[] = [];
    const stream = createReadableStream(rb, { map: readJSON<Line>, until: done });
    // (the DOM lib's ReadableStream type and node:stream/web's differ in name only)
    for await (const line of Readable.fromWeb(stream as unknown as WebReadableStream<Line>, { objectMode: true })) {
      lines.push(line as Line);
    }
    checkLines(lines, PRODUCERS, COUNT);
    expect(released(rb)).toBe(true);
  });

  it('cancel() releases the ring, also with a read pending; the signal errors the stream', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    const stream = createReadableStream(rb, { map: readText });
    const reader = stream.getReader();
    writeText(rb, 'first');
    await expect(reader.read()).resolves.toEqual({ done: false, value: 'first' });
    const pending = reader.read();
    await reader.cancel();
    await expect(pending).resolves.toEqual({ done: true, value: undefined });
    expect(released(rb)).toBe(true);

    const ac = new AbortController();
    const r2 = createReadableStream(rb, { signal: ac.signal }).getReader();
    const p2 = r2.read();
    ac.abort();
    await expect(p2).rejects.toMatchObject({ name: 'AbortError' });
    expect(released(rb)).toBe(true);
  });

  it('reads only when pulled: an unread stream leaves records in the ring', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    for (let i = 0; i < 5; i++) writeText(rb, `r${i}`);
    const stream = createReadableStream(rb, { map: readText });
    await new Promise((r) => setTimeout(r, 20));
    expect(rb.query(0 /* BPF_RB_AVAIL_DATA */)).toBeGreaterThan(0);
    const reader = stream.getReader();
    const got: string[] = [];
    for (let i = 0; i < 5; i++) got.push((await reader.read()).value!);
    expect(got).toEqual(['r0', 'r1', 'r2', 'r3', 'r4']);
    await reader.cancel();
  });
});

describe('createWritableStream', () => {
  it("turns chunks into records (bytes as they are, strings as UTF-8, or encode()) and its backpressure is the ring's room", async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    const writer = createWritableStream(rb).getWriter();
    await writer.write(new Uint8Array([1, 2, 3]));
    await writer.write('é😀');
    const got: string[] = [];
    const c = new RingBufferConsumer(rb, (d) => void got.push(d.length === 3 && d[0] === 1 ? 'bytes' : readText(d)));
    c.consume();
    expect(got).toEqual(['bytes', 'é😀']);

    // fill the ring; the next write waits for room and writer.ready with it
    let written = 0;
    const big = 'z'.repeat(1000);
    let settled = false;
    const fill = (async () => {
      for (let i = 0; i < 8; i++) {
        await writer.ready;
        await writer.write(big);
        written++;
      }
      settled = true;
    })();
    await new Promise((r) => setTimeout(r, 50));
    expect(settled).toBe(false);
    expect(written).toBeLessThan(8);
    expect(rb.stats().dropped).toBe(0); // waiting, not dropping
    while (!settled) {
      c.consume();
      await new Promise((r) => setTimeout(r, 5));
    }
    await fill;
    c.consume();
    expect(got.filter((t) => t === big).length).toBe(8);
    await writer.close();
  });

  it('pipeTo() from a source with encode(); timeoutMs drops and counts; abort() ends a waiting write', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    const source = new ReadableStream<{ n: number }>({
      start(controller) {
        for (let n = 0; n < 20; n++) controller.enqueue({ n });
        controller.close();
      },
    });
    await source.pipeTo(createWritableStream(rb, { encode: (o: { n: number }) => JSON.stringify(o) }));
    const got: unknown[] = [];
    const c = new RingBufferConsumer(rb, (d) => void got.push(readJSON(d)));
    c.consume();
    expect(got).toEqual(Array.from({ length: 20 }, (_, n) => ({ n })));

    const dropping = createWritableStream(rb, { timeoutMs: 10 }).getWriter();
    fill(rb);
    const dropped = rb.stats().dropped;
    await dropping.write('no room: dropped after 10 ms');
    expect(rb.stats().dropped).toBe(dropped + 1);
    await dropping.close();

    const waiting = createWritableStream(rb).getWriter();
    const w = waiting.write('waits for room');
    await new Promise((r) => setTimeout(r, 20));
    await waiting.abort(new Error('stop'));
    await expect(w).rejects.toThrow();
    c.close();
  });

  it('refuses bad options at once', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    expect(() => createWritableStream(rb, { flags: 4 })).toThrow(
      expect.objectContaining({ code: 'ERR_RINGBUF_FLAGS' }),
    );
    expect(() => createWritableStream(rb, { timeoutMs: -2 })).toThrow(
      expect.objectContaining({ code: 'ERR_RINGBUF_RANGE' }),
    );
    expect(() => createWritableStream({} as RingBuffer)).toThrow(expect.objectContaining({ code: 'ERR_RINGBUF_TYPE' }));
  });
});

describe('no wait is left behind', () => {
  it('a Node process exits after each way out (break, return() pending, cancel() pending, signal, writable abort)', async () => {
    const script = fileURLToPath(new URL('./fixtures/exits.mjs', import.meta.url));
    const t0 = performance.now();
    const { stdout } = await promisify(execFile)(process.execPath, [script], { timeout: 30_000 });
    expect(stdout.trim()).toBe('all ways out taken');
    expect(performance.now() - t0).toBeLessThan(30_000);
  });
});
