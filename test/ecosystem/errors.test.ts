// docs/errors.md, the RingBufferErrorCode union and the codes src/ throws
// list the same codes; and each code is raised here from every call its row
// of the page names ("thrown by"), and from no call the row leaves out, with
// a class the row names. A row that says "any call" is raised from a few, and
// test/unit/bad-arguments.test.ts passes every kind of bad argument to every call.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import * as W from 'wasm-ringbuf';
import {
  BPF_RB_PROD_POS,
  PerfBuffer,
  PerfBufferConsumer,
  RingBuffer,
  RingBufferConsumer,
  ShardedRings,
  createReadableStream,
  createWritableStream,
  readBatches,
  readRecords,
  readText,
  writeJSON,
  writeJSONAsync,
  writeText,
  writeTextAsync,
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

/** A row of the page's table of codes. */
interface Row {
  classes: string[];
  /** The calls of the "thrown by" column, or null for a row that says "any call". */
  calls: Set<string> | null;
  todo: string;
}
const table = new Map<string, Row>(
  [...doc.matchAll(/^\| `(ERR_RINGBUF_[A-Z_]+)` \| ([^|]+) \| ([^|]+) \| ([^|]+) \|$/gm)].map((m) => {
    const thrownBy = m[3]!.trim();
    const calls = thrownBy.startsWith('any call')
      ? null
      : new Set([...thrownBy.matchAll(/`((?:new )?[\w.]+\(\))`/g)].map((c) => c[1]!));
    return [
      m[1]!,
      { classes: [...m[2]!.matchAll(/`(RingBuffer\w+Error)`/g)].map((c) => c[1]!), calls, todo: m[4]!.trim() },
    ];
  }),
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

  it('the page has one table row for every code of the union, names no other code, and stays short', () => {
    expect([...table.keys()].sort()).toEqual(union);
    expect([...new Set(doc.match(CODE))].sort()).toEqual(union);
    for (const [code, row] of table) {
      expect(row.classes.length, code).toBeGreaterThan(0);
      expect(row.calls === null || row.calls.size > 0, `${code}: a row names its calls, or says "any call"`).toBe(true);
      expect(row.todo.length, code).toBeGreaterThan(10);
    }
    expect(doc.split('\n').length).toBeLessThanOrEqual(131);
  });
});

/** Runs `f` and returns what it threw, synchronously or as a rejection. */
async function thrown(f: () => unknown): Promise<Error & { code?: string }> {
  try {
    await f();
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('nothing was thrown');
}

const ring = (options: W.RingBufferOptions = { size: 4096 }) => RingBuffer.create(options);
/** A ring with no room for another 1000-byte record. */
async function full(): Promise<RingBuffer> {
  const rb = await ring();
  while (rb.output(new Uint8Array(1000)));
  return rb;
}
/** A ring whose consumer is taken. */
async function taken(): Promise<RingBuffer> {
  const rb = await ring();
  new RingBufferConsumer(rb, () => {});
  return rb;
}
async function corrupt(): Promise<RingBuffer> {
  const rb = await ring({ size: 4096, maxRecord: 64 });
  const off = rb.reserveRaw(8);
  rb.submitRaw(off);
  new DataView(rb.bytes.buffer).setUint32(off - 8, 1000, true); // a length the ring cannot hold
  expect(rb.query(BPF_RB_PROD_POS)).toBe(16);
  return rb;
}

/** Runs `f` without Atomics.waitAsync; Node has no global Worker, so nothing can stand in for it. */
async function withoutWaitAsync(f: () => Promise<unknown>): Promise<unknown> {
  const waitAsync = Atomics.waitAsync;
  delete (Atomics as { waitAsync?: unknown }).waitAsync;
  try {
    return await f();
  } finally {
    Atomics.waitAsync = waitAsync;
  }
}

/** Starts `create` with a page's globals in place (read before its first await), and restores them. */
function asPage(stub: { isolated: boolean; sab: boolean }, create: () => Promise<unknown>): Promise<unknown> {
  const g = globalThis as Record<string, unknown>;
  const sab = Object.getOwnPropertyDescriptor(g, 'SharedArrayBuffer')!;
  Object.defineProperty(g, 'crossOriginIsolated', { value: stub.isolated, configurable: true });
  if (!stub.sab) delete g.SharedArrayBuffer;
  try {
    return create();
  } finally {
    delete g.crossOriginIsolated;
    Object.defineProperty(g, 'SharedArrayBuffer', sab);
  }
}

/** A fresh copy of the package, loaded as on a page's main thread (which may not block). */
let mainThread: typeof W | undefined;
async function pageMainThread(): Promise<typeof W> {
  if (mainThread) return mainThread;
  const g = globalThis as Record<string, unknown>;
  g.window = {};
  g.document = {};
  try {
    vi.resetModules();
    mainThread = (await import('wasm-ringbuf')) as typeof W;
  } finally {
    delete g.window;
    delete g.document;
  }
  return mainThread;
}
async function mainThreadRing() {
  const m = await pageMainThread();
  return { m, rb: await m.RingBuffer.create({ size: 4096 }) };
}

const BYTES = new Uint8Array([1, 2, 3]);
const ok = () => {};
/** Sizes that are not a power of two from 4096 to 2^30. */
const BAD_SIZES = [3000, 2048, 0, -4096, 4096.5, NaN, Infinity, -Infinity, 2 ** 31, 2 ** 32 + 4096];

type Trigger = [code: string, call: string, raise: () => unknown];
const triggers: Trigger[] = [
  ['ERR_RINGBUF_TYPE', 'RingBuffer.create()', () => RingBuffer.create('big' as never)],
  ['ERR_RINGBUF_TYPE', 'write()', async () => (await ring()).write(8, 5 as never)],
  ['ERR_RINGBUF_TYPE', 'readText()', () => readText('x' as never)],
  [
    'ERR_RINGBUF_TYPE',
    'output()',
    async () => {
      const buf = new ArrayBuffer(8);
      const view = new Uint8Array(buf);
      structuredClone(buf, { transfer: [buf] });
      (await ring()).output(view);
    },
  ],
  ['ERR_RINGBUF_TYPE', 'createWritableStream()', () => createWritableStream({} as RingBuffer)],
  ['ERR_RINGBUF_RANGE', 'reserve()', async () => (await ring()).reserve(5000)],
  ['ERR_RINGBUF_RANGE', 'RingBuffer.create()', () => ring({ size: 4096, maxRecord: 4081 })],
  ['ERR_RINGBUF_RANGE', 'consumeN()', () => new RingBufferConsumer().consumeN(-1)],
  ...BAD_SIZES.flatMap((size): Trigger[] => [
    ['ERR_RINGBUF_SIZE', 'RingBuffer.create()', () => ring({ size })],
    ['ERR_RINGBUF_SIZE', 'PerfBuffer.create()', () => PerfBuffer.create({ producers: 2, size })],
    ['ERR_RINGBUF_SIZE', 'ShardedRings.create()', () => ShardedRings.create({ rings: 2, size })],
  ]),
  ['ERR_RINGBUF_SIZE', 'PerfBuffer.create()', () => PerfBuffer.create({ producers: 256, size: 2 ** 30 })],
  ['ERR_RINGBUF_FLAGS', 'submit()', async () => (await ring()).reserve(8)!.submit(8)],
  ['ERR_RINGBUF_FLAGS', 'discard()', async () => (await ring()).reserve(8)!.discard(4)],
  [
    'ERR_RINGBUF_FLAGS',
    'submitRaw()',
    async () => {
      const rb = await ring();
      rb.submitRaw(rb.reserveRaw(8), 8);
    },
  ],
  [
    'ERR_RINGBUF_FLAGS',
    'discardRaw()',
    async () => {
      const rb = await ring();
      rb.discardRaw(rb.reserveRaw(8), -1);
    },
  ],
  ['ERR_RINGBUF_FLAGS', 'output()', async () => (await ring()).output(BYTES, 8)],
  ['ERR_RINGBUF_FLAGS', 'outputBlocking()', async () => (await ring()).outputBlocking(BYTES, 8, 0)],
  ['ERR_RINGBUF_FLAGS', 'outputAsync()', async () => (await ring()).outputAsync(BYTES, 8)],
  ['ERR_RINGBUF_FLAGS', 'write()', async () => (await ring()).write(8, ok, 8)],
  ['ERR_RINGBUF_FLAGS', 'writeText()', async () => writeText(await ring(), 'x', 8)],
  ['ERR_RINGBUF_FLAGS', 'writeTextAsync()', async () => writeTextAsync(await ring(), 'x', 1.5)],
  ['ERR_RINGBUF_FLAGS', 'writeJSON()', async () => writeJSON(await ring(), 1, 8)],
  ['ERR_RINGBUF_FLAGS', 'writeJSONAsync()', async () => writeJSONAsync(await ring(), 1, 8)],
  ['ERR_RINGBUF_FLAGS', 'createWritableStream()', async () => createWritableStream(await ring(), { flags: 8 })],
  ['ERR_RINGBUF_QUERY', 'query()', async () => (await ring()).query(9)],
  ['ERR_RINGBUF_HANDLE', 'RingBuffer.attach()', () => RingBuffer.attach({ kind: 'something else' } as never)],
  ['ERR_RINGBUF_HANDLE', 'PerfBuffer.attach()', async () => PerfBuffer.attach((await ring()).handle as never, 0)],
  ['ERR_RINGBUF_HANDLE', 'ShardedRings.attach()', async () => ShardedRings.attach((await ring()).handle as never, 0)],
  ...(
    [
      ['RingBuffer.create()', () => ring()],
      ['PerfBuffer.create()', () => PerfBuffer.create({ producers: 2, size: 4096 })],
      ['ShardedRings.create()', () => ShardedRings.create({ rings: 2, size: 4096 })],
    ] as const
  ).flatMap(([call, create]): Trigger[] => [
    ['ERR_RINGBUF_NOT_ISOLATED', call, () => asPage({ isolated: false, sab: false }, create)],
    ['ERR_RINGBUF_NO_SHARED_MEMORY', call, () => asPage({ isolated: true, sab: false }, create)],
  ]),
  [
    'ERR_RINGBUF_COMMITTED',
    'submit()',
    async () => {
      const r = (await ring()).reserve(8)!;
      r.submit();
      r.submit();
    },
  ],
  [
    'ERR_RINGBUF_COMMITTED',
    'discard()',
    async () => {
      const r = (await ring()).reserve(8)!;
      r.submit();
      r.discard();
    },
  ],
  ['ERR_RINGBUF_COMMITTED', 'submitRaw()', async () => (await ring()).submitRaw(65536 + 4096 + 8)],
  [
    'ERR_RINGBUF_COMMITTED',
    'discardRaw()',
    async () => {
      const rb = await ring();
      const off = rb.reserveRaw(8);
      rb.submitRaw(off);
      rb.discardRaw(off);
    },
  ],
  ['ERR_RINGBUF_PRODUCER', 'reapProducer()', async () => (await ring()).reapProducer(4000)],
  [
    'ERR_RINGBUF_PRODUCER',
    'reapProducer()',
    async () => {
      const rb = await ring();
      rb.reapProducer(rb.producerId);
    },
  ],
  ...(
    [
      ['reserve()', (p: RingBuffer) => p.reserve(8)],
      ['reserveRaw()', (p: RingBuffer) => p.reserveRaw(8)],
      ['output()', (p: RingBuffer) => p.output(new Uint8Array(8))],
      ['write()', (p: RingBuffer) => p.write(8, () => {})],
      ['reserveBlocking()', (p: RingBuffer) => p.reserveBlocking(8, 0)],
      ['outputAsync()', (p: RingBuffer) => p.outputAsync(new Uint8Array(8))],
    ] as const
  ).map(
    ([call, write]): Trigger => [
      'ERR_RINGBUF_REAPED',
      call,
      async () => {
        const rb = await ring();
        const p = await RingBuffer.attach(rb.handle);
        rb.reapProducer(p.producerId); // it goes on running: its next write must write nothing
        await write(p);
      },
    ],
  ),
  ...(['submit()', 'discard()', 'submitRaw()', 'discardRaw()'] as const).map(
    (call): Trigger => [
      'ERR_RINGBUF_REAPED',
      call,
      async () => {
        const rb = await ring();
        const p = await RingBuffer.attach(rb.handle);
        const r = p.reserve(8)!;
        const off = p.reserveRaw(8);
        rb.reapProducer(p.producerId); // discards both, and p goes on running
        if (call === 'submit()') r.submit();
        else if (call === 'discard()') r.discard();
        else if (call === 'submitRaw()') p.submitRaw(off);
        else p.discardRaw(off);
      },
    ],
  ),
  [
    'ERR_RINGBUF_CLOSED',
    'reserve()',
    async () => {
      const rb = await ring();
      rb.close();
      rb.reserve(8);
    },
  ],
  [
    'ERR_RINGBUF_CLOSED',
    'consume()',
    async () => {
      const c = new RingBufferConsumer(await ring(), ok);
      c.close();
      c.consume();
    },
  ],
  [
    'ERR_RINGBUF_PENDING',
    'PerfBufferProducer.close()',
    async () => {
      const pb = await PerfBuffer.create({ producers: 1, size: 4096 });
      const p = await PerfBuffer.attach(pb.handle, 0);
      p.reserve(8);
      p.close();
    },
  ],
  [
    'ERR_RINGBUF_SLOT',
    'PerfBuffer.attach()',
    async () => {
      const pb = await PerfBuffer.create({ producers: 1, size: 4096 });
      await PerfBuffer.attach(pb.handle, 0);
      await PerfBuffer.attach(pb.handle, 0);
    },
  ],
  [
    'ERR_RINGBUF_UNORDERED',
    'new PerfBufferConsumer()',
    async () => {
      const pb = await PerfBuffer.create({ producers: 1, size: 4096, ordered: false });
      new PerfBufferConsumer(pb, { sample: ok, ordered: true });
    },
  ],
  [
    'ERR_RINGBUF_DUPLICATE',
    'add()',
    async () => {
      const rb = await ring();
      new RingBufferConsumer(rb, ok).add(rb, ok);
    },
  ],
  [
    'ERR_RINGBUF_DUPLICATE',
    'addRaw()',
    async () => {
      const rb = await ring();
      new W.FairConsumer().add(rb, ok).addRaw(rb, ok);
    },
  ],
  ['ERR_RINGBUF_CONSUMER_TAKEN', 'new RingBufferConsumer()', async () => new RingBufferConsumer(await taken(), ok)],
  ['ERR_RINGBUF_CONSUMER_TAKEN', 'add()', async () => new W.FairConsumer().add(await taken(), ok)],
  ['ERR_RINGBUF_CONSUMER_TAKEN', 'addRaw()', async () => new RingBufferConsumer().addRaw(await taken(), ok)],
  [
    'ERR_RINGBUF_CONSUMER_TAKEN',
    'new PerfBufferConsumer()',
    async () => {
      const pb = await PerfBuffer.create({ producers: 2, size: 4096 });
      new PerfBufferConsumer(pb, { sample: ok });
      new PerfBufferConsumer(pb, { sample: ok });
    },
  ],
  [
    'ERR_RINGBUF_CONSUMER_TAKEN',
    'ShardedRings.consumer()',
    async () => {
      const shards = await ShardedRings.create({ rings: 2, size: 4096 });
      new RingBufferConsumer(shards.rings[1], ok);
      shards.consumer(ok);
    },
  ],
  [
    'ERR_RINGBUF_CONSUMER_TAKEN',
    'ShardedRings.consumerRaw()',
    async () => {
      const shards = await ShardedRings.create({ rings: 2, size: 4096 });
      shards.consumerRaw(ok);
      shards.consumerRaw(ok);
    },
  ],
  ['ERR_RINGBUF_CONSUMER_TAKEN', 'readRecords()', async () => readRecords(await taken())],
  ['ERR_RINGBUF_CONSUMER_TAKEN', 'readBatches()', async () => readBatches(await taken())],
  ['ERR_RINGBUF_CONSUMER_TAKEN', 'createReadableStream()', async () => createReadableStream(await taken())],
  ['ERR_RINGBUF_NO_RINGS', 'poll()', () => new RingBufferConsumer().poll(0)],
  ['ERR_RINGBUF_NO_RINGS', 'pollSync()', () => new RingBufferConsumer().pollSync(0)],
  [
    'ERR_RINGBUF_POLL',
    'pollSync()',
    async () => {
      const c = new RingBufferConsumer(await ring(), ok);
      c.add(await ring(), ok);
      c.pollSync(0);
    },
  ],
  ...(['poll()', 'pollSync()'] as const).map(
    (call): Trigger => [
      'ERR_RINGBUF_POLL_PENDING',
      call,
      async () => {
        const c = new RingBufferConsumer(await ring(), ok);
        const first = c.poll(1000);
        try {
          await (call === 'poll()' ? c.poll(0) : c.pollSync(0));
        } finally {
          c.close();
          await first;
        }
      },
    ],
  ),
  [
    'ERR_RINGBUF_CANNOT_BLOCK',
    'pollSync()',
    async () => {
      const { m, rb } = await mainThreadRing();
      new m.RingBufferConsumer(rb, ok).pollSync(0);
    },
  ],
  ['ERR_RINGBUF_CANNOT_BLOCK', 'reserveBlocking()', async () => (await mainThreadRing()).rb.reserveBlocking(8, 10)],
  ['ERR_RINGBUF_CANNOT_BLOCK', 'reserveRawBlocking()', async () => (await mainThreadRing()).rb.reserveRawBlocking(8)],
  ['ERR_RINGBUF_CANNOT_BLOCK', 'outputBlocking()', async () => (await mainThreadRing()).rb.outputBlocking(BYTES)],
  [
    'ERR_RINGBUF_CANNOT_BLOCK',
    'writeText()',
    async () => {
      const { m, rb } = await mainThreadRing();
      m.writeText(rb, 'x', 0, 10);
    },
  ],
  [
    'ERR_RINGBUF_CANNOT_BLOCK',
    'writeJSON()',
    async () => {
      const { m, rb } = await mainThreadRing();
      m.writeJSON(rb, 1, 0, -1);
    },
  ],
  [
    'ERR_RINGBUF_NO_WAIT',
    'poll()',
    async () => {
      const c = new RingBufferConsumer(await ring(), ok);
      try {
        await withoutWaitAsync(() => c.poll(10));
      } finally {
        c.close();
      }
    },
  ],
  [
    'ERR_RINGBUF_NO_WAIT',
    'reserveAsync()',
    async () => {
      const rb = await full();
      await withoutWaitAsync(() => rb.reserveAsync(1000, { timeoutMs: 100 }));
    },
  ],
  [
    'ERR_RINGBUF_NO_WAIT',
    'outputAsync()',
    async () => {
      const rb = await full();
      await withoutWaitAsync(() => rb.outputAsync(new Uint8Array(1000), 0, { timeoutMs: 100 }));
    },
  ],
  [
    'ERR_RINGBUF_NO_WAIT',
    'writeTextAsync()',
    async () => {
      const rb = await full();
      await withoutWaitAsync(() => writeTextAsync(rb, 'x'.repeat(1000), 0, { timeoutMs: 100 }));
    },
  ],
  [
    'ERR_RINGBUF_NO_WAIT',
    'writeJSONAsync()',
    async () => {
      const rb = await full();
      await withoutWaitAsync(() => writeJSONAsync(rb, 'x'.repeat(1000), 0, { timeoutMs: 100 }));
    },
  ],
  ['ERR_RINGBUF_CORRUPT', 'consume()', async () => new RingBufferConsumer(await corrupt(), ok).consume()],
  ['ERR_RINGBUF_CORRUPT', 'poll()', async () => new RingBufferConsumer(await corrupt(), ok).poll(0)],
];

describe('each code, raised from every call its row names, has a class the row names', () => {
  it('every code of the union is raised here', () => {
    expect([...new Set(triggers.map(([code]) => code))].sort()).toEqual(union);
  });

  for (const code of union) {
    it(code, async () => {
      const row = table.get(code)!;
      const classes = new Set<string>();
      for (const [, call, raise] of triggers.filter(([c]) => c === code)) {
        const err = await thrown(raise);
        expect(err.code, `${call}: ${err.message}`).toBe(code);
        expect(row.classes, `${call}: ${err.name}`).toContain(err.name);
        // an instance of the class of that name, of this package (or of the copy loaded as on a page's main thread)
        const isA = (m: object | undefined): boolean => {
          const cls = (m as Record<string, unknown> | undefined)?.[err.name];
          return typeof cls === 'function' && err instanceof cls;
        };
        expect(isA(W) || isA(mainThread), call).toBe(true);
        classes.add(err.name);
      }
      // the row's classes are each raised, and its calls are exactly the ones raised
      expect([...classes].sort()).toEqual([...row.classes].sort());
      const calls = new Set(triggers.filter(([c]) => c === code).map(([, call]) => call));
      if (row.calls !== null) expect([...calls].sort()).toEqual([...row.calls].sort());
      else expect(calls.size).toBeGreaterThan(0);
    });
  }
});
