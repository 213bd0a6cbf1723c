// Why a ring cannot be created where there is no shared memory, told apart:
// a page that is not cross-origin isolated (ERR_RINGBUF_NOT_ISOLATED names the
// two headers) and an engine that has no SharedArrayBuffer or no shared
// WebAssembly memory although the page is isolated, as WebKitGTK without
// JSC_useSharedArrayBuffer=true (ERR_RINGBUF_NO_SHARED_MEMORY names the
// engines that have it). Each case stubs the globals a page would have for
// the one synchronous step in which create() looks at them, and restores them.
import { describe, expect, it } from 'vitest';
import { PerfBuffer, RingBuffer, RingBufferStateError, ShardedRings } from 'wasm-ringbuf';

interface Stub {
  crossOriginIsolated?: boolean;
  noSharedArrayBuffer?: boolean;
  unsharedMemory?: boolean;
}

const g = globalThis as Record<string, unknown>;

/** Calls `create` with the globals of `stub` in place, restoring them before the promise settles. */
function createUnder<T>(stub: Stub, create: () => Promise<T>): Promise<T> {
  const had = Object.getOwnPropertyDescriptor(g, 'crossOriginIsolated');
  const sab = Object.getOwnPropertyDescriptor(g, 'SharedArrayBuffer')!;
  const memory = WebAssembly.Memory;
  if ('crossOriginIsolated' in stub) {
    Object.defineProperty(g, 'crossOriginIsolated', { value: stub.crossOriginIsolated, configurable: true });
  }
  if (stub.noSharedArrayBuffer) delete g.SharedArrayBuffer;
  if (stub.unsharedMemory) {
    // an engine that ignores `shared: true`
    // biome-ignore lint/complexity/useArrowFunction: called with new, as the real constructor is
    (WebAssembly as { Memory: unknown }).Memory = function (d: WebAssembly.MemoryDescriptor) {
      return new memory({ initial: d.initial, ...(d.maximum === undefined ? {} : { maximum: d.maximum }) });
    };
  }
  try {
    return create(); // the globals are read before create()'s first await
  } finally {
    if (had) Object.defineProperty(g, 'crossOriginIsolated', had);
    else delete g.crossOriginIsolated;
    Object.defineProperty(g, 'SharedArrayBuffer', sab);
    (WebAssembly as { Memory: unknown }).Memory = memory;
  }
}

const creates: [string, () => Promise<unknown>][] = [
  ['RingBuffer.create()', () => RingBuffer.create({ size: 4096 })],
  ['PerfBuffer.create()', () => PerfBuffer.create({ producers: 2, size: 4096 })],
  ['ShardedRings.create()', () => ShardedRings.create({ rings: 2, size: 4096 })],
];

async function failure(stub: Stub, create: () => Promise<unknown>): Promise<RingBufferStateError> {
  const p = createUnder(stub, create);
  await expect(p).rejects.toBeInstanceOf(RingBufferStateError);
  return p.then(
    () => {
      throw new Error('created');
    },
    (err: RingBufferStateError) => err,
  );
}

describe('no shared memory: which reason, and what to do', () => {
  for (const [name, create] of creates) {
    it(`${name}, a page that is not cross-origin isolated: ERR_RINGBUF_NOT_ISOLATED names both headers`, async () => {
      for (const stub of [{ crossOriginIsolated: false }, { crossOriginIsolated: false, noSharedArrayBuffer: true }]) {
        const err = await failure(stub, create);
        expect(err.code).toBe('ERR_RINGBUF_NOT_ISOLATED');
        expect(err.message).toContain('not cross-origin isolated');
        expect(err.message).toContain('Cross-Origin-Opener-Policy: same-origin');
        expect(err.message).toContain('Cross-Origin-Embedder-Policy: require-corp');
      }
    });

    it(`${name}, an isolated page in an engine without SharedArrayBuffer (WebKitGTK): ERR_RINGBUF_NO_SHARED_MEMORY`, async () => {
      const err = await failure({ crossOriginIsolated: true, noSharedArrayBuffer: true }, create);
      expect(err.code).toBe('ERR_RINGBUF_NO_SHARED_MEMORY');
      expect(err.message).toContain('no SharedArrayBuffer although the page is cross-origin isolated');
      for (const engine of ['Chrome or Edge 92+', 'Firefox 79+', 'Safari 15.2+', 'JSC_useSharedArrayBuffer=true']) {
        expect(err.message).toContain(engine);
      }
      expect(err.message).not.toContain('Cross-Origin-Opener-Policy'); // the headers are not what is missing
    });
  }

  it('an engine without isolation or SharedArrayBuffer: ERR_RINGBUF_NO_SHARED_MEMORY, isolation not claimed', async () => {
    const err = await failure({ noSharedArrayBuffer: true }, creates[0]![1]);
    expect(err.code).toBe('ERR_RINGBUF_NO_SHARED_MEMORY');
    expect(err.message).toContain('this engine has no SharedArrayBuffer.');
    expect(err.message).not.toContain('although');
  });

  it('an engine whose WebAssembly.Memory ignores shared: true: ERR_RINGBUF_NO_SHARED_MEMORY', async () => {
    const err = await failure({ crossOriginIsolated: true, unsharedMemory: true }, creates[0]![1]);
    expect(err.code).toBe('ERR_RINGBUF_NO_SHARED_MEMORY');
    expect(err.message).toContain('no shared WebAssembly memory although the page is cross-origin isolated');
  });

  it('the globals are back: a ring is created as before', async () => {
    expect(g.crossOriginIsolated).toBeUndefined();
    expect(typeof SharedArrayBuffer).toBe('function');
    const rb = await RingBuffer.create({ size: 4096 });
    expect(rb.memory.buffer).toBeInstanceOf(SharedArrayBuffer);
  });
});
