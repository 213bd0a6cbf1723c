// What RingBuffer.create() and .attach() take, checked before anything is
// shared, and what a ring reports.

import {
  RingBufferRangeError,
  RingBufferStateError,
  RingBufferTypeError,
  checkBoolean,
  checkInteger,
  checkOptions,
  describeValue,
} from './errors.js';
import {
  DATA_OFFSET,
  FLAG_OVERWRITE,
  FLAG_SINGLE,
  MAGIC,
  MAX_SIZE,
  MIN_SIZE,
  OFF_MAGIC,
  OFF_MASK,
  OFF_MAX_RECORD,
  OFF_SIZE,
  OFF_VERSION,
  VERSION,
  recordStride,
} from './layout.js';

/** Options of `RingBuffer.create()`. */
export interface RingBufferOptions {
  /** Bytes in the data area: a power of two from 4096 to 2^30 (the kernel's `max_entries`). */
  size: number;
  /**
   * Largest payload a record may carry, from 0 to `size - 16` (the default, the
   * kernel's limit). A lower value shrinks the overhang that keeps every
   * record contiguous, and so the memory the ring takes.
   */
  maxRecord?: number;
  /**
   * Flight-recorder mode (the kernel's `BPF_F_RB_OVERWRITE`): a full ring
   * drops its oldest committed records instead of refusing new ones, never
   * stepping over a record that is still BUSY. Default false.
   */
  overwrite?: boolean;
  /**
   * The ring will have one producer thread only (as each ring of a
   * per-producer buffer): `reserve()` takes no lock, and `output()` makes
   * one wasm call. Producing from two threads at once then corrupts the
   * ring; to move the producing to another thread, stop on the first and
   * tell the second through something that orders the two (a
   * `postMessage`, a worker's exit). Default false.
   */
  singleProducer?: boolean;
  /**
   * Initial value of every position, a multiple of 8 (default 0). Positions
   * are byte counters that only grow; a large start tests traffic past 2^32.
   */
  position?: number;
}

/**
 * What `RingBuffer.handle` returns: a structured-cloneable description of a
 * ring (the compiled module and the shared memory travel together). Post it
 * to a worker and call `RingBuffer.attach()` there.
 */
export interface RingBufferHandle {
  readonly kind: 'wasm-ringbuf';
  readonly version: number;
  readonly memory: WebAssembly.Memory;
  readonly module: WebAssembly.Module;
  /** Address of the ring's control block in `memory`. */
  readonly ctl: number;
}

/** Counters of one ring, summed over every producer. A snapshot: they keep moving. */
export interface RingBufferStats {
  /** Records refused because the ring had no room (reserve() gave null, output() false). */
  dropped: number;
  /** Records discarded by their producer. */
  discarded: number;
  /** Wakeups sent to a sleeping consumer. */
  wakeups: number;
  /** Times a producer found the lock held past its spin limit and went to sleep on it. */
  lockWaits: number;
  /** Overwrite mode: records passed over before the consumer read them. */
  overwritten: number;
  /** Records left BUSY by producers that died, discarded by `reapProducer()` (not counted in `discarded`). */
  reaped: number;
  /**
   * Times a producer slept in `reserveBlocking()` / `reserveAsync()` (or their `output` forms) until the
   * consumer freed room.
   */
  roomWaits: number;
}

/** Options of `reserveAsync()` and `outputAsync()`. */
export interface WaitForRoomOptions {
  /** Give up after this many milliseconds (default -1: wait without end; 0: do not wait). */
  timeoutMs?: number;
  /** Give up when it aborts: the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** Counters of one producer, by the id written in its records' headers. Each wraps at 2^32. */
export interface ProducerStats {
  /** Its records refused for lack of room. */
  dropped: number;
  /** Its records discarded, by itself or by `reapProducer()`. */
  discarded: number;
}

/** What `reapProducer()` cleaned up. */
export interface ReapResult {
  /** Records the producer had reserved and never committed, now discarded. */
  discarded: number;
  /** Whether it died holding the producer lock (now released). */
  lockRecovered: boolean;
}

export const MAX_POSITION = Number.MAX_SAFE_INTEGER - 2 ** 32;

export function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

/**
 * @internal A ring size: a power of two from 4096 to 2^30. Any number that
 * is not one is ERR_RINGBUF_SIZE (what is not a number, ERR_RINGBUF_TYPE).
 */
export function checkSize(size: unknown): asserts size is number {
  if (typeof size !== 'number') {
    throw new RingBufferTypeError(
      `size must be a number; got ${describeValue(size)}. Use a power of two from 4096 to 2^30, such as 65536.`,
      'ERR_RINGBUF_TYPE',
    );
  }
  if (Number.isInteger(size) && size >= MIN_SIZE && size <= MAX_SIZE && isPowerOfTwo(size)) return;
  const near = size > MAX_SIZE ? MAX_SIZE : size > MIN_SIZE ? 2 ** Math.ceil(Math.log2(size)) : MIN_SIZE;
  const suggest = Number.isFinite(near) ? near : 65536;
  throw new RingBufferRangeError(
    `size must be an integer power of two from 4096 to 2^30; got ${describeValue(size)}. Try ${suggest}.`,
    'ERR_RINGBUF_SIZE',
  );
}

/**
 * @internal A new shared memory of `pages` pages, or the error that says why
 * this runtime cannot have one: a page that is not cross-origin isolated, or
 * an engine without SharedArrayBuffer or shared WebAssembly memory.
 */
export function sharedMemory(pages: number): WebAssembly.Memory {
  const g = globalThis as { crossOriginIsolated?: boolean; SharedArrayBuffer?: unknown };
  if (g.crossOriginIsolated === false) {
    throw new RingBufferStateError(
      'shared memory is not available: this page is not cross-origin isolated. Serve the page and its workers ' +
        'with the headers "Cross-Origin-Opener-Policy: same-origin" and ' +
        '"Cross-Origin-Embedder-Policy: require-corp" (or "credentialless").',
      'ERR_RINGBUF_NOT_ISOLATED',
    );
  }
  if (typeof g.SharedArrayBuffer !== 'function') throw noSharedMemory('SharedArrayBuffer');
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  if (!(memory.buffer instanceof SharedArrayBuffer)) throw noSharedMemory('shared WebAssembly memory');
  return memory;
}

function noSharedMemory(what: string): RingBufferStateError {
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  const although = isolated ? ' although the page is cross-origin isolated' : '';
  return new RingBufferStateError(
    `shared memory is not available: this engine has no ${what}${although}. ` +
      'Use an engine that has it: Chrome or Edge 92+, Firefox 79+ or Safari 15.2+ (on a cross-origin isolated page), ' +
      'Node 20+, Deno or Bun; WebKitGTK has it only with JSC_useSharedArrayBuffer=true ' +
      "in the browser's environment.",
    'ERR_RINGBUF_NO_SHARED_MEMORY',
  );
}

/** @internal The checked options of `RingBuffer.create()`, as the wasm init() takes them. */
export function checkCreateOptions(options: RingBufferOptions): CreateArgs {
  checkOptions(options, 'RingBuffer.create()', '{ size: 65536 }');
  const { size, maxRecord: max, position = 0, overwrite = false, singleProducer = false } = options;
  if ('claim' in options) {
    // removed: producers always reserve under the lock (docs/protocol.md says why)
    throw new RingBufferTypeError(
      'the claim option was removed: rings always use the producer lock; leave it out',
      'ERR_RINGBUF_TYPE',
    );
  }
  checkSize(size);
  const maxRecord = max === undefined ? size - 16 : max;
  checkInteger(
    maxRecord,
    'maxRecord',
    size - 16,
    'A record needs 8 header bytes and the ring must never fill to exactly size, so the largest payload ' +
      `of a ${size}-byte ring is ${size - 16}.`,
  );
  checkBoolean(overwrite, 'overwrite');
  checkBoolean(singleProducer, 'singleProducer');
  checkInteger(position, 'position', MAX_POSITION, 'Use a multiple of 8 below 2^53.');
  if (position % 8 !== 0) {
    throw new RingBufferRangeError(`position must be a multiple of 8; got ${position}`, 'ERR_RINGBUF_RANGE');
  }
  const flags = (overwrite ? FLAG_OVERWRITE : 0) | (singleProducer ? FLAG_SINGLE : 0);
  return { size, maxRecord, flags, position };
}

/** @internal What checkCreateOptions() returns. */
export interface CreateArgs {
  size: number;
  maxRecord: number;
  flags: number;
  position: number;
}

/** @internal Checks that `handle` is a ring's handle, before anything in it is trusted. */
export function checkHandle(handle: RingBufferHandle): Pick<RingBufferHandle, 'memory' | 'module' | 'ctl'> {
  const bad = (why: string): RingBufferTypeError =>
    new RingBufferTypeError(
      `not a wasm-ringbuf handle: ${why}. Pass the value of rb.handle from RingBuffer.create().`,
      'ERR_RINGBUF_HANDLE',
    );
  if (handle === null || typeof handle !== 'object') throw bad(`got ${describeValue(handle)}`);
  if (handle.kind !== 'wasm-ringbuf') throw bad('its kind is not "wasm-ringbuf"');
  if (handle.version !== VERSION) {
    throw bad(`layout version ${describeValue(handle.version)}, this package reads ${VERSION}`);
  }
  const { memory, module, ctl } = handle;
  if (!(memory instanceof WebAssembly.Memory)) throw bad('memory is not a WebAssembly.Memory');
  const buffer: ArrayBufferLike = memory.buffer;
  const bytes = buffer.byteLength;
  if (!(buffer instanceof SharedArrayBuffer)) throw bad('memory is not shared');
  if (!(module instanceof WebAssembly.Module)) throw bad('module is not a WebAssembly.Module');
  if (!Number.isInteger(ctl) || ctl % 64 !== 0 || ctl < 0 || ctl + DATA_OFFSET > bytes) {
    throw bad(`ctl ${describeValue(ctl)} is not a control block address`);
  }
  const u32 = new Uint32Array(memory.buffer);
  const word = (off: number): number => Atomics.load(u32, (ctl + off) >> 2);
  if (word(OFF_MAGIC) !== MAGIC || word(OFF_VERSION) !== VERSION) throw bad('no ring at ctl (magic or version differ)');
  const size = word(OFF_SIZE);
  const maxRecord = word(OFF_MAX_RECORD);
  if (
    !isPowerOfTwo(size) ||
    size < MIN_SIZE ||
    size > MAX_SIZE ||
    word(OFF_MASK) !== size - 1 ||
    maxRecord > size - 16 ||
    ctl + DATA_OFFSET + size + recordStride(maxRecord) > bytes
  ) {
    throw bad('its control block is inconsistent (size, mask or maxRecord)');
  }
  return { memory, module, ctl };
}
