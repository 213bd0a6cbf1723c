import {
  BPF_RB_AVAIL_DATA, BPF_RB_OVERWRITE_POS, type CommitFlags, type QueryKey,
} from './constants.js';
import {
  RingBufferRangeError, RingBufferStateError, RingBufferTypeError, checkFlags, checkInteger, checkLength,
  describeValue,
} from './errors.js';
import {
  DATA_OFFSET, FLAG_CLAIM, FLAG_OVERWRITE, FLAG_SINGLE, LEN_MASK, HDR_SIZE, MAGIC, MAX_SIZE, MIN_SIZE, OFF_FLAGS, OFF_MAGIC, OFF_MASK,
  MAX_PRODUCER_ID, OFF_LOCK, OFF_MAX_RECORD, OFF_NEXT_PRODUCER, OFF_SIZE, OFF_VERSION, REAP_LOCK_RECOVERED, RING_BASE, VERSION,
  memoryPages, recordStride,
} from './layout.js';
import { canBlock, compileModule, instantiateRing, type RingExports } from './wasm.js';

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
   * How producers claim space: `'lock'` (default), the kernel's reservation
   * under a producer lock that spins briefly and then sleeps; or `'cas'`, a
   * lock-free compare-and-swap claim kept for comparison (see docs/protocol.md:
   * it gives up overrun protection and recovery from a dead producer).
   */
  claim?: 'lock' | 'cas';
  /**
   * Flight-recorder mode (the kernel's `BPF_F_RB_OVERWRITE`): a full ring
   * drops its oldest committed records instead of refusing new ones, never
   * stepping over a record that is still BUSY. Default false. Needs `claim: 'lock'`.
   */
  overwrite?: boolean;
  /**
   * The ring will have one producer thread only (as each ring of a
   * per-producer buffer): `reserve()` takes no lock. Producing from two
   * threads at once then corrupts the ring. Default false.
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

const MAX_POSITION = Number.MAX_SAFE_INTEGER - 2 ** 32;

function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

function sharedMemory(pages: number): WebAssembly.Memory {
  const g = globalThis as { crossOriginIsolated?: boolean; SharedArrayBuffer?: unknown };
  if (typeof g.SharedArrayBuffer !== 'function' || g.crossOriginIsolated === false) {
    throw new RingBufferStateError(
      'shared memory is not available: this page is not cross-origin isolated. Serve it with the headers ' +
        '"Cross-Origin-Opener-Policy: same-origin" and "Cross-Origin-Embedder-Policy: require-corp" (or "credentialless").',
      'ERR_RINGBUF_NOT_ISOLATED',
    );
  }
  return new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
}

/**
 * One multi-producer ring, the JavaScript twin of a `BPF_MAP_TYPE_RINGBUF` map.
 * Producers on any thread reserve, fill and commit records in place; one
 * `RingBufferConsumer` reads them in reservation order.
 */
export class RingBuffer {
  /** @internal */ readonly ex: RingExports;
  /** @internal */ readonly ctl: number;
  /** @internal */ readonly data: number;
  /** @internal */ readonly i32: Int32Array;
  /** @internal */ readonly claimMode: boolean;
  /** @internal */ readonly overwriteMode: boolean;
  /** The shared memory holding the ring. */
  readonly memory: WebAssembly.Memory;
  /** The compiled module the ring runs on. */
  readonly module: WebAssembly.Module;
  /**
   * The whole shared memory as bytes: the zero-allocation path writes payloads
   * here at the offsets `reserveRaw()` returns. The view never goes stale (the
   * memory never grows).
   */
  readonly bytes: Uint8Array;
  /** Bytes in the data area (`BPF_RB_RING_SIZE`). */
  readonly size: number;
  /** Largest payload one record may carry. */
  readonly maxRecord: number;
  /** This handle's producer id, 1..4095 (0 once the ring has handed out 4095), written in each record's header. */
  readonly producerId: number;
  readonly #canBlock: number;

  private constructor(ex: RingExports, memory: WebAssembly.Memory, module: WebAssembly.Module, ctl: number) {
    this.ex = ex;
    this.memory = memory;
    this.module = module;
    this.ctl = ctl;
    this.data = ctl + DATA_OFFSET;
    this.bytes = new Uint8Array(memory.buffer);
    this.i32 = new Int32Array(memory.buffer);
    const u32 = new Uint32Array(memory.buffer);
    this.size = u32[(ctl + OFF_SIZE) >> 2]!;
    this.maxRecord = u32[(ctl + OFF_MAX_RECORD) >> 2]!;
    this.claimMode = (u32[(ctl + OFF_FLAGS) >> 2]! & FLAG_CLAIM) !== 0;
    this.overwriteMode = (u32[(ctl + OFF_FLAGS) >> 2]! & FLAG_OVERWRITE) !== 0;
    this.producerId = ex.nextProducerId(ctl);
    this.#canBlock = canBlock ? 1 : 0;
  }

  /**
   * Creates a ring in a new shared `WebAssembly.Memory` (the map creation of
   * `bpf_map_create(BPF_MAP_TYPE_RINGBUF, ...)`). Rejects with a
   * `RingBufferTypeError` or `RingBufferRangeError` on bad options.
   */
  static async create(options: RingBufferOptions): Promise<RingBuffer> {
    if (options === null || typeof options !== 'object') {
      throw new RingBufferTypeError(
        `RingBuffer.create() takes an options object such as { size: 65536 }; got ${describeValue(options)}`,
        'ERR_RINGBUF_TYPE',
      );
    }
    const { size, claim = 'lock', position = 0, overwrite = false, singleProducer = false } = options;
    checkInteger(size, 'size', MAX_SIZE, 'Use a power of two from 4096 to 2^30, such as 65536.');
    if (size < MIN_SIZE || !isPowerOfTwo(size)) {
      throw new RingBufferRangeError(
        `size must be a power of two from 4096 to 2^30; got ${size}. Try ${Math.max(MIN_SIZE, 2 ** Math.ceil(Math.log2(Math.max(size, 1))))}.`,
        'ERR_RINGBUF_SIZE',
      );
    }
    const maxRecord = options.maxRecord ?? size - 16;
    checkInteger(maxRecord, 'maxRecord', size - 16, `A record needs 8 header bytes and the ring must never fill to exactly size, so the largest payload of a ${size}-byte ring is ${size - 16}.`);
    if (claim !== 'lock' && claim !== 'cas') {
      throw new RingBufferRangeError(`claim must be 'lock' or 'cas'; got ${describeValue(claim)}`, 'ERR_RINGBUF_RANGE');
    }
    if (typeof overwrite !== 'boolean') {
      throw new RingBufferTypeError(`overwrite must be a boolean; got ${describeValue(overwrite)}`, 'ERR_RINGBUF_TYPE');
    }
    if (typeof singleProducer !== 'boolean') {
      throw new RingBufferTypeError(`singleProducer must be a boolean; got ${describeValue(singleProducer)}`, 'ERR_RINGBUF_TYPE');
    }
    if (overwrite && claim === 'cas') {
      throw new RingBufferRangeError("overwrite mode needs claim: 'lock' (the overwrite walk runs under the producer lock)", 'ERR_RINGBUF_RANGE');
    }
    checkInteger(position, 'position', MAX_POSITION, 'Use a multiple of 8 below 2^53.');
    if (position % 8 !== 0) {
      throw new RingBufferRangeError(`position must be a multiple of 8; got ${position}`, 'ERR_RINGBUF_RANGE');
    }
    const memory = sharedMemory(memoryPages(RING_BASE, size, maxRecord));
    const module = await compileModule();
    const ex = await instantiateRing(module, memory);
    ex.init(RING_BASE, size, maxRecord, (claim === 'cas' ? FLAG_CLAIM : 0) | (overwrite ? FLAG_OVERWRITE : 0) | (singleProducer ? FLAG_SINGLE : 0), position);
    return new RingBuffer(ex, memory, module, RING_BASE);
  }

  /**
   * Attaches to a ring created elsewhere, usually in a worker that received
   * `rb.handle` by `postMessage`. Rejects with a `RingBufferTypeError` when
   * `handle` is not a ring's handle.
   */
  static async attach(handle: RingBufferHandle): Promise<RingBuffer> {
    const bad = (why: string): RingBufferTypeError =>
      new RingBufferTypeError(`not a wasm-ringbuf handle: ${why}. Pass the value of rb.handle from RingBuffer.create().`, 'ERR_RINGBUF_HANDLE');
    if (handle === null || typeof handle !== 'object') throw bad(`got ${describeValue(handle)}`);
    if (handle.kind !== 'wasm-ringbuf') throw bad('its kind is not "wasm-ringbuf"');
    if (handle.version !== VERSION) throw bad(`layout version ${describeValue(handle.version)}, this package reads ${VERSION}`);
    const { memory, module, ctl } = handle;
    if (!(memory instanceof WebAssembly.Memory)) throw bad('memory is not a WebAssembly.Memory');
    const buffer: ArrayBufferLike = memory.buffer;
    const bytes = buffer.byteLength;
    if (!(buffer instanceof SharedArrayBuffer)) throw bad('memory is not shared');
    if (!(module instanceof WebAssembly.Module)) throw bad('module is not a WebAssembly.Module');
    if (!Number.isInteger(ctl) || ctl % 64 !== 0 || ctl < 0 || ctl + DATA_OFFSET > bytes) throw bad(`ctl ${describeValue(ctl)} is not a control block address`);
    const u32 = new Uint32Array(memory.buffer);
    const word = (off: number): number => Atomics.load(u32, (ctl + off) >> 2);
    if (word(OFF_MAGIC) !== MAGIC || word(OFF_VERSION) !== VERSION) throw bad('no ring at ctl (magic or version differ)');
    const size = word(OFF_SIZE);
    const maxRecord = word(OFF_MAX_RECORD);
    if (!isPowerOfTwo(size) || size < MIN_SIZE || size > MAX_SIZE || word(OFF_MASK) !== size - 1 || maxRecord > size - 16 ||
        ctl + DATA_OFFSET + size + recordStride(maxRecord) > bytes) {
      throw bad('its control block is inconsistent (size, mask or maxRecord)');
    }
    return new RingBuffer(await instantiateRing(module, memory), memory, module, ctl);
  }

  /** A structured-cloneable handle for `RingBuffer.attach()` in another thread. */
  get handle(): RingBufferHandle {
    return { kind: 'wasm-ringbuf', version: VERSION, memory: this.memory, module: this.module, ctl: this.ctl };
  }

  /**
   * `bpf_ringbuf_reserve()`: reserves `len` bytes and returns a `Reservation`
   * whose `data` view is exactly `len` bytes, or `null` when the ring has no
   * room now (counted in `stats().dropped`). Throws when `len` can never fit.
   * Allocates the Reservation and its view; hot loops use `reserveRaw()`.
   */
  reserve(len: number): Reservation | null {
    checkLength(len, this.maxRecord);
    const offset = this.ex.reserve(this.ctl, len, this.producerId, this.#canBlock);
    return offset === 0 ? null : new Reservation(this, offset, len);
  }

  /**
   * `bpf_ringbuf_output()`: copies `bytes` into a new record and submits it
   * with `flags`. Returns `false` when the ring has no room now (counted in
   * `stats().dropped`); throws on bad input, leaving the ring untouched.
   */
  output(bytes: ArrayBufferView, flags: CommitFlags | number = 0): boolean {
    const src = outputSource(bytes, flags, this.maxRecord);
    const offset = this.ex.reserve(this.ctl, src.length, this.producerId, this.#canBlock);
    if (offset === 0) return false;
    this.bytes.set(src, offset);
    this.ex.commit(this.ctl, offset, flags, 0);
    return true;
  }

  /**
   * `bpf_ringbuf_query()`: `BPF_RB_AVAIL_DATA`, `BPF_RB_RING_SIZE`,
   * `BPF_RB_CONS_POS`, `BPF_RB_PROD_POS` or `BPF_RB_OVERWRITE_POS`, in bytes (headers and rounding
   * included). A snapshot: producers and the consumer keep moving.
   */
  query(key: QueryKey | number): number {
    if (typeof key !== 'number') throw new RingBufferTypeError(`query key must be a number; got ${describeValue(key)}`, 'ERR_RINGBUF_TYPE');
    if (!(key >= BPF_RB_AVAIL_DATA && key <= BPF_RB_OVERWRITE_POS && Number.isInteger(key))) {
      throw new RingBufferRangeError(
        `unknown query key ${key}: use BPF_RB_AVAIL_DATA (0), BPF_RB_RING_SIZE (1), BPF_RB_CONS_POS (2), BPF_RB_PROD_POS (3) or BPF_RB_OVERWRITE_POS (4)`,
        'ERR_RINGBUF_QUERY',
      );
    }
    return this.ex.query(this.ctl, key);
  }

  /** Loss and event counters of the ring, summed over every producer. */
  stats(): RingBufferStats {
    const { ex, ctl } = this;
    return {
      dropped: ex.counter(ctl, 0), discarded: ex.counter(ctl, 1), wakeups: ex.counter(ctl, 2), lockWaits: ex.counter(ctl, 3),
      reaped: ex.counter(ctl, 4), overwritten: ex.counter(ctl, 5),
    };
  }

  /** The counters of producer `id` (a `producerId` from any thread attached to this ring). */
  producerStats(id: number): ProducerStats {
    checkInteger(id, 'producer id', MAX_PRODUCER_ID, 'Use the producerId of a RingBuffer attached to this ring.');
    return { dropped: this.ex.producerCounter(this.ctl, id, 0), discarded: this.ex.producerCounter(this.ctl, id, 1) };
  }

  /**
   * Cleans up after producer `id`, which is gone: call it once the worker
   * that held that producer id has exited (its `exit` event), never while it
   * may still run. Releases the producer lock if it died holding it, and
   * discards every record it reserved and never committed (counted in
   * `stats().reaped` and its `producerStats(id).discarded`), so that other
   * producers and the consumer carry on. The kernel needs no such call: a BPF
   * program cannot die between reserve and commit.
   */
  reapProducer(id: number): ReapResult {
    checkInteger(id, 'producer id', MAX_PRODUCER_ID, 'Use the producerId the dead worker reported.');
    if (id === 0 || id >= Atomics.load(this.i32, (this.ctl + OFF_NEXT_PRODUCER) >> 2) + 1) {
      throw new RingBufferRangeError(
        `producer id ${id} was never handed out by this ring${id === 0 ? ' (0 is shared by anonymous producers past the 4095th and cannot be reaped)' : ''}`,
        'ERR_RINGBUF_PRODUCER',
      );
    }
    if (id === this.producerId) {
      throw new RingBufferStateError('a producer cannot reap itself: call reapProducer() from another RingBuffer on the same ring', 'ERR_RINGBUF_PRODUCER');
    }
    if (this.claimMode) {
      throw new RingBufferStateError(
        "reapProducer() needs the 'lock' claim: in 'cas' mode a dead producer's claim leaves no header to recover",
        'ERR_RINGBUF_PRODUCER',
      );
    }
    const r = this.ex.reap(this.ctl, id, this.producerId, this.#canBlock) >>> 0;
    return { discarded: r & ~REAP_LOCK_RECOVERED, lockRecovered: (r & REAP_LOCK_RECOVERED) !== 0 };
  }

  /**
   * The producer id holding the producer lock now, or null when it is free.
   * A snapshot. When several producers died, reap the one this names first:
   * `reapProducer()` of another waits for the lock.
   */
  lockHolder(): number | null {
    const v = Atomics.load(this.i32, (this.ctl + OFF_LOCK) >> 2);
    return v === 0 ? null : v & MAX_PRODUCER_ID;
  }

  /**
   * Reserves `len` bytes, calls `fill(data)` and submits the record with
   * `flags`; if `fill` throws, discards it and rethrows, so no reservation
   * is left behind. Returns `false` when the ring has no room now.
   */
  write(len: number, fill: (data: Uint8Array) => void, flags: CommitFlags | number = 0): boolean {
    checkFlags(flags);
    return fillAndSubmit(this.reserve(len), fill, flags);
  }

  // ---- zero-allocation path --------------------------------------------

  /**
   * `bpf_ringbuf_reserve()` without allocation: returns the offset in
   * `rb.bytes` of a `len`-byte payload, or 0 when the ring has no room now.
   * Write the payload at `bytes[offset .. offset + len)`, then call
   * `submitRaw(offset)` or `discardRaw(offset)`. Nothing stops a write past
   * `len` on this path: that is the price of skipping the view.
   */
  reserveRaw(len: number): number {
    checkLength(len, this.maxRecord);
    return this.ex.reserve(this.ctl, len, this.producerId, this.#canBlock);
  }

  /** `bpf_ringbuf_submit()` for an offset from `reserveRaw()`. */
  submitRaw(offset: number, flags: CommitFlags | number = 0): void {
    this.commitRaw(offset, flags, 0);
  }

  /** `bpf_ringbuf_discard()` for an offset from `reserveRaw()`. */
  discardRaw(offset: number, flags: CommitFlags | number = 0): void {
    this.commitRaw(offset, flags, 1);
  }

  /** @internal */
  commitRaw(offset: number, flags: number, discard: number): void {
    if (flags !== 0 && flags !== 1 && flags !== 2) checkFlags(flags);
    const hdr = offset - HDR_SIZE;
    // BUSY reads as a negative int32; anything else was never reserved or is committed already
    const word = this.i32[hdr >> 2]!;
    if (!(hdr >= this.data && hdr < this.data + this.size && (hdr & 7) === 0 && word < 0 && (word & LEN_MASK) <= this.maxRecord)) {
      throw new RingBufferStateError(
        `offset ${describeValue(offset)} is not a pending reservation: commit each offset from reserveRaw() exactly once`,
        'ERR_RINGBUF_COMMITTED',
      );
    }
    this.ex.commit(this.ctl, offset, flags, discard);
  }
}

/**
 * @internal
 * Checks the arguments of `output()` and returns the bytes to copy, as a
 * Uint8Array (a new view only when `bytes` is another kind of view).
 */
export function outputSource(bytes: unknown, flags: unknown, maxRecord: number): Uint8Array {
  if (!ArrayBuffer.isView(bytes)) {
    throw new RingBufferTypeError(`output() takes a Uint8Array or another ArrayBufferView; got ${describeValue(bytes)}`, 'ERR_RINGBUF_TYPE');
  }
  checkFlags(flags);
  checkLength(bytes.byteLength, maxRecord);
  return bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * @internal
 * The body of `write()`: fills and submits `r`, or discards it and rethrows
 * if `fill` throws; false when there was no reservation (no room).
 */
export function fillAndSubmit(r: Reservation | null, fill: (data: Uint8Array) => void, flags: number): boolean {
  if (r === null) return false;
  try {
    fill(r.data);
  } catch (err) {
    r.discard(0); // adaptive: a consumer asleep at this very record must learn it is gone
    throw err;
  }
  r.submit(flags);
  return true;
}

/** What a reservation commits through: a ring, or a producer of a per-producer buffer. */
export interface ReservationOwner {
  readonly bytes: Uint8Array;
  submitRaw(offset: number, flags: number): void;
  discardRaw(offset: number, flags: number): void;
}

/**
 * A record reserved by `RingBuffer.reserve()`: fill `data`, then `submit()`
 * or `discard()` it, once (the kernel's `bpf_ringbuf_submit()` /
 * `bpf_ringbuf_discard()`). Until then the consumer waits at this record.
 */
export class Reservation {
  /**
   * Exactly the reserved bytes. `data.set()` past the end throws a
   * RangeError, and an index past the end is ignored, as for any typed array:
   * no write through this view reaches a neighbour. Do not use it after the
   * commit: the bytes then belong to the consumer.
   */
  readonly data: Uint8Array;
  /** Offset of the payload in `rb.bytes`. */
  readonly offset: number;
  #owner: ReservationOwner | null;

  /** @internal */
  constructor(owner: ReservationOwner, offset: number, len: number) {
    this.#owner = owner;
    this.offset = offset;
    this.data = new Uint8Array(owner.bytes.buffer, offset, len);
  }

  /** Whether submit() or discard() has run. */
  get committed(): boolean {
    return this.#owner === null;
  }

  /** `bpf_ringbuf_submit()`: hands the record to the consumer; `flags` as in the kernel. */
  submit(flags: CommitFlags | number = 0): void {
    this.#take(flags).submitRaw(this.offset, flags);
  }

  /** `bpf_ringbuf_discard()`: the consumer skips the record; `flags` as in the kernel. */
  discard(flags: CommitFlags | number = 0): void {
    this.#take(flags).discardRaw(this.offset, flags);
  }

  /**
   * Discards the record if it was neither submitted nor discarded, so that a
   * `using r = rb.reserve(n)` declaration never leaves a reservation behind
   * when the block throws.
   */
  [Symbol.dispose](): void {
    if (this.#owner !== null) this.discard(0); // adaptive, as in write()
  }

  #take(flags: number): ReservationOwner {
    checkFlags(flags);
    const owner = this.#owner;
    if (owner === null) {
      throw new RingBufferStateError('this reservation was already submitted or discarded: commit a reservation once', 'ERR_RINGBUF_COMMITTED');
    }
    this.#owner = null;
    return owner;
  }
}
