// docs/errors.md, the RingBufferErrorCode union and the codes src/ throws
// list the same codes; each code that can be raised in Node is raised here,
// and its class is the one the page names.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  BPF_RB_PROD_POS, PerfBuffer, PerfBufferConsumer, RingBuffer, RingBufferConsumer, createWritableStream, readRecords, writeText,
} from 'wasm-ringbuf';

const root = fileURLToPath(new URL('../..', import.meta.url));
const read = (p: string) => readFileSync(join(root, p), 'utf8');
const CODE = /ERR_RINGBUF_[A-Z_]+/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(join(root, p)).isDirectory()) return f === 'generated' ? [] : sourceFiles(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

/** The codes of the union in src/errors.ts (and in the shipped typings). */
function unionOf(text: string): string[] {
  const m = /type RingBufferErrorCode\s*=([^;]*);/.exec(text);
  if (!m) throw new Error('no RingBufferErrorCode union found');
  return [...m[1]!.matchAll(/'(ERR_RINGBUF_[A-Z_]+)'/g)].map((x) => x[1]!).sort();
}

const union = unionOf(read('src/errors.ts'));
const doc = read('docs/errors.md');
/** Per code, the classes its row in the page's table names. */
const table = new Map(
  [...doc.matchAll(/^\| `(ERR_RINGBUF_[A-Z_]+)` \| ([^|]+) \|/gm)].map((m) => [m[1]!, [...m[2]!.matchAll(/`(RingBuffer\w+Error)`/g)].map((c) => c[1]!)]),
);

describe('docs/errors.md and the RingBufferErrorCode union', () => {
  it('the union is exactly the codes thrown in src/', () => {
    const thrown = new Set<string>();
    for (const file of sourceFiles('src')) {
      let text = read(file);
      if (file.endsWith('errors.ts')) text = text.replace(/type RingBufferErrorCode\s*=[^;]*;/, ''); // the union itself is no throw
      // string literals only: doc comments name codes too
      for (const m of text.matchAll(/'(ERR_RINGBUF_[A-Z_]+)'/g)) thrown.add(m[1]!);
    }
    expect([...thrown].sort()).toEqual(union);
  });

  it('the shipped typings carry the same union', () => {
    expect(unionOf(read('dist/errors.d.ts'))).toEqual(union);
  });

  it('the page has a section and a table row for every code of the union, and names no other code', () => {
    const sections = [...doc.matchAll(/^### `(ERR_RINGBUF_[A-Z_]+)`$/gm)].map((m) => m[1]!).sort();
    expect(sections).toEqual(union);
    expect([...table.keys()].sort()).toEqual(union);
    expect([...new Set(doc.match(CODE))].sort()).toEqual(union);
    for (const [code, classes] of table) expect(classes.length, code).toBeGreaterThan(0);
  });
});

/** Runs `f` and returns what it threw (synchronously or as a rejection). */
async function thrown(f: () => unknown): Promise<{ name: string; code: string }> {
  try {
    await f();
  } catch (err) {
    return err as { name: string; code: string };
  }
  throw new Error('nothing was thrown');
}

describe('each code, raised, has the class the page names', () => {
  const cases: [string, () => Promise<unknown> | unknown][] = [
    ['ERR_RINGBUF_TYPE', () => RingBuffer.create('big' as never)],
    ['ERR_RINGBUF_RANGE', async () => (await RingBuffer.create({ size: 4096 })).reserve(5000)],
    ['ERR_RINGBUF_SIZE', () => RingBuffer.create({ size: 3000 })],
    ['ERR_RINGBUF_FLAGS', async () => writeText(await RingBuffer.create({ size: 4096 }), 'x', 8)],
    ['ERR_RINGBUF_QUERY', async () => (await RingBuffer.create({ size: 4096 })).query(9)],
    ['ERR_RINGBUF_HANDLE', () => RingBuffer.attach({ kind: 'something else' } as never)],
    ['ERR_RINGBUF_COMMITTED', async () => {
      const r = (await RingBuffer.create({ size: 4096 })).reserve(8)!;
      r.submit();
      r.submit();
    }],
    ['ERR_RINGBUF_PRODUCER', async () => (await RingBuffer.create({ size: 4096 })).reapProducer(4000)],
    ['ERR_RINGBUF_PRODUCER', async () => {
      const rb = await RingBuffer.create({ size: 4096 });
      rb.reapProducer(rb.producerId);
    }],
    ['ERR_RINGBUF_CLOSED', async () => {
      const rb = await RingBuffer.create({ size: 4096 });
      rb.close();
      rb.reserve(8);
    }],
    ['ERR_RINGBUF_PENDING', async () => {
      const pb = await PerfBuffer.create({ producers: 1, size: 4096 });
      const p = await PerfBuffer.attach(pb.handle, 0);
      p.reserve(8);
      p.close();
    }],
    ['ERR_RINGBUF_SLOT', async () => {
      const pb = await PerfBuffer.create({ producers: 1, size: 4096 });
      await PerfBuffer.attach(pb.handle, 0);
      await PerfBuffer.attach(pb.handle, 0);
    }],
    ['ERR_RINGBUF_UNORDERED', async () => {
      const pb = await PerfBuffer.create({ producers: 1, size: 4096, ordered: false });
      new PerfBufferConsumer(pb, { sample: () => {}, ordered: true });
    }],
    ['ERR_RINGBUF_DUPLICATE', async () => {
      const rb = await RingBuffer.create({ size: 4096 });
      new RingBufferConsumer(rb, () => {}).add(rb, () => {});
    }],
    ['ERR_RINGBUF_CONSUMER_TAKEN', async () => {
      const rb = await RingBuffer.create({ size: 4096 });
      readRecords(rb);
      readRecords(rb);
    }],
    ['ERR_RINGBUF_NO_RINGS', () => new RingBufferConsumer().poll(0)],
    ['ERR_RINGBUF_POLL', async () => {
      const c = new RingBufferConsumer(await RingBuffer.create({ size: 4096 }), () => {});
      c.add(await RingBuffer.create({ size: 4096 }), () => {});
      c.pollSync(0);
    }],
    ['ERR_RINGBUF_POLL_PENDING', async () => {
      const c = new RingBufferConsumer(await RingBuffer.create({ size: 4096 }), () => {});
      const first = c.poll(1000);
      try {
        await c.poll(0);
      } finally {
        c.close();
        await first;
      }
    }],
    ['ERR_RINGBUF_NO_WAIT', async () => {
      // Node has no global Worker: without Atomics.waitAsync nothing can stand in
      const c = new RingBufferConsumer(await RingBuffer.create({ size: 4096 }), () => {});
      const waitAsync = Atomics.waitAsync;
      delete (Atomics as { waitAsync?: unknown }).waitAsync;
      try {
        await c.poll(10);
      } finally {
        Atomics.waitAsync = waitAsync;
        c.close();
      }
    }],
    ['ERR_RINGBUF_CORRUPT', async () => {
      const rb = await RingBuffer.create({ size: 4096, maxRecord: 64 });
      const off = rb.reserveRaw(8);
      rb.submitRaw(off);
      new DataView(rb.bytes.buffer).setUint32(off - 8, 1000, true); // a length the ring cannot hold
      expect(rb.query(BPF_RB_PROD_POS)).toBe(16);
      new RingBufferConsumer(rb, () => {}).consume();
    }],
    ['ERR_RINGBUF_TYPE', async () => createWritableStream({} as RingBuffer)],
  ];
  // raised in the browser suite (test/browser): a page without isolation, a page's main thread
  const elsewhere = ['ERR_RINGBUF_NOT_ISOLATED', 'ERR_RINGBUF_CANNOT_BLOCK'];

  it('covers every code of the union', () => {
    expect([...new Set([...cases.map(([c]) => c), ...elsewhere])].sort()).toEqual(union);
  });

  for (const [code, raise] of cases) {
    it(code, async () => {
      const err = await thrown(raise);
      expect(err.code).toBe(code);
      expect(table.get(code), `${code}: ${err.name}`).toContain(err.name);
    });
  }
});
