// RingBuffer: one multi-producer ring, its creation and attachment, and the
// producer side of the protocol (reserve, output, commit, the producers that
// wait for room) over the wasm core (assembly/ring.ts).

import { BPF_RB_AVAIL_DATA, BPF_RB_OVERWRITE_POS, type CommitFlags, type QueryKey } from './constants.js';
import {
  RingBufferRangeError,
  RingBufferStateError,
  RingBufferTypeError,
  checkFlags,
  checkFunction,
  checkInteger,
  checkLength,
  checkOffset,
  checkTimeout,
  checkWaitOptions,
  closedError,
  describeValue,
  goneError,
  reapedError,
  viewIsGone,
} from './errors.js';
import {
  COMMIT_REVOKED,
  MAX_PRODUCER_ID,
  OFF_DISCARDED,
  OFF_DROPPED,
  OFF_LOCK_WAITS,
  OFF_OVERWRITTEN,
  OFF_REAPED,
  OFF_ROOM_WAITS,
  OFF_WAKEUPS,
  REAP_LOCK_RECOVERED,
  RESERVE_CAN_BLOCK,
  RESERVE_QUIET,
  REVOKED,
  RING_BASE,
  VERSION,
  memoryPages,
} from './layout.js';
import { Reservation, Staging, fillAndSubmit, outputSource } from './reservation.js';
import { waitForRoom, waitForRoomAsync } from './room.js';
import {
  checkCreateOptions,
  checkHandle,
  sharedMemory,
  type ProducerStats,
  type ReapResult,
  type RingBufferHandle,
  type RingBufferOptions,
  type RingBufferStats,
  type WaitForRoomOptions,
} from './ring-options.js';
import { RingCore, canBlock, compileModule, instantiateRing } from './wasm.js';

/** How long reapProducer() lets a holder of the lock that still runs leave it, in milliseconds. */
const REAP_GRACE_MS = 50;

export type {
  ProducerStats,
  ReapResult,
  RingBufferHandle,
  RingBufferOptions,
  RingBufferStats,
  WaitForRoomOptions,
} from './ring-options.js';

/**
 * One multi-producer ring, the JavaScript twin of a `BPF_MAP_TYPE_RINGBUF` map.
 * Producers on any thread reserve, fill and commit records in place; one
 * `RingBufferConsumer` reads them in reservation order.
 */
export class RingBuffer {
  /** @internal The ring's control words and the wasm calls on them (src/wasm.ts). */
  readonly core: RingCore;
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
  /** @internal `memory.buffer`, read once (the memory never grows): reserve() makes its views on it. */
  readonly sharedBuffer: ArrayBufferLike;
  /** @internal Where this producer's reservations of small records are filled (src/reservation.ts). */
  readonly staging: Staging;
  /**
   * This object's producer id, 1..4094, written in each record's header; 0
   * (anonymous, not reapable) only while 4094 others are in use. `close()`
   * gives it back, as does `reapProducer()` of it.
   */
  readonly producerId: number;
  /** reserve()'s options for this thread: whether it may sleep on a held lock. */
  readonly #opts: number;
  /** The producer id with the generation it was handed out at (`id | gen << 16`): reap() revokes it. */
  readonly #who: number;
  #closed = false;
  /** The producer id is this object's still (close() gives it back, once no staged reservation is pending). */
  #idHeld = true;

  private constructor(core: RingCore, module: WebAssembly.Module) {
    this.core = core;
    this.memory = core.memory;
    this.module = module;
    this.bytes = core.bytes;
    this.size = core.size;
    this.maxRecord = core.maxRecord;
    this.sharedBuffer = core.buffer;
    this.#who = core.acquireId();
    this.producerId = this.#who & 0xffff;
    this.staging = new Staging(core.buffer, core.stagingAt(this.producerId));
    this.#opts = canBlock ? RESERVE_CAN_BLOCK : 0;
  }

  /**
   * Creates a ring in a new shared `WebAssembly.Memory` (the map creation of
   * `bpf_map_create(BPF_MAP_TYPE_RINGBUF, ...)`). Rejects with a
   * `RingBufferTypeError` or `RingBufferRangeError` on bad options.
   */
  static async create(options: RingBufferOptions): Promise<RingBuffer> {
    const { size, maxRecord, flags, position } = checkCreateOptions(options);
    const memory = sharedMemory(memoryPages(RING_BASE, size, maxRecord));
    const module = await compileModule();
    const wasm = await instantiateRing(module, memory);
    wasm.init(RING_BASE, size, maxRecord, flags, position);
    return new RingBuffer(new RingCore(wasm, memory, RING_BASE), module);
  }

  /**
   * Attaches to a ring created elsewhere, usually in a worker that received
   * `rb.handle` by `postMessage`. Rejects with a `RingBufferTypeError` when
   * `handle` is not a ring's handle.
   */
  static async attach(handle: RingBufferHandle): Promise<RingBuffer> {
    const { memory, module, ctl } = checkHandle(handle);
    return new RingBuffer(new RingCore(await instantiateRing(module, memory), memory, ctl), module);
  }

  /** A structured-cloneable handle for `RingBuffer.attach()` in another thread. */
  get handle(): RingBufferHandle {
    return { kind: 'wasm-ringbuf', version: VERSION, memory: this.memory, module: this.module, ctl: this.core.ctl };
  }

  /**
   * `bpf_ringbuf_reserve()`: reserves `len` bytes and returns a `Reservation`
   * whose `data` view is exactly `len` bytes, or `null` when the ring has no
   * room now (counted in `stats().dropped`). Throws when `len` can never fit.
   * Allocates the Reservation and its view; hot loops use `reserveRaw()`.
   */
  reserve(len: number): Reservation | null {
    const offset = this.reserveRaw(len);
    return offset === 0 ? null : new Reservation(this, offset, len);
  }

  /**
   * `bpf_ringbuf_output()`: copies `bytes` into a new record and submits it
   * with `flags`. Returns `false` when the ring has no room now (counted in
   * `stats().dropped`); throws on bad input, leaving the ring untouched.
   */
  output(bytes: ArrayBufferView, flags: CommitFlags | number = 0): boolean {
    const src = outputSource(bytes, flags, this.maxRecord);
    if (this.core.single) {
      this.#checkOpen();
      const at = this.core.nextPayload(src.length);
      if (at !== 0) {
        this.bytes.set(src, at);
        if (this.core.outputAt(at, src.length, this.#who, flags) !== 0) return true;
      }
    }
    return this.#copyIn(src, this.#reserve(src.length), flags);
  }

  /**
   * Reserves `len` bytes, calls `fill(data)` and submits the record with
   * `flags`; if `fill` throws, discards it and rethrows, so no reservation
   * is left behind. Returns `false` when the ring has no room now.
   */
  write(len: number, fill: (data: Uint8Array) => void, flags: CommitFlags | number = 0): boolean {
    checkLength(len, this.maxRecord);
    checkFunction(fill, 'fill');
    checkFlags(flags);
    const offset = this.#reserve(len);
    return fillAndSubmit(offset === 0 ? null : new Reservation(this, offset, len), fill, flags);
  }

  // ---- producers that wait for room (src/room.ts) ---------------------------

  /**
   * libbpf's `user_ring_buffer__reserve_blocking()`: as `reserve()`, but when
   * the ring is full, sleeps (`Atomics.wait`) until the consumer frees room or
   * `timeoutMs` pass (-1: without end). Returns `null` only on timeout, and
   * only then counts a refusal in `stats().dropped`. For workers and Node's
   * main thread: a browser page's main thread cannot block (use
   * `reserveAsync()`). The consumer notifies only producers that announced
   * they wait, so a ring with room costs nothing extra.
   */
  reserveBlocking(len: number, timeoutMs = -1): Reservation | null {
    const offset = this.reserveRawBlocking(len, timeoutMs);
    return offset === 0 ? null : new Reservation(this, offset, len);
  }

  /** `reserveBlocking()` without allocation: an offset in `bytes`, or 0 on timeout. */
  reserveRawBlocking(len: number, timeoutMs = -1): number {
    checkLength(len, this.maxRecord);
    checkTimeout(timeoutMs);
    return waitForRoom(this, len, timeoutMs);
  }

  /** As `output()`, waiting for room as `reserveBlocking()` does; false only on timeout. */
  outputBlocking(bytes: ArrayBufferView, flags: CommitFlags | number = 0, timeoutMs = -1): boolean {
    const src = outputSource(bytes, flags, this.maxRecord, 'outputBlocking()');
    checkTimeout(timeoutMs);
    return this.#copyIn(src, waitForRoom(this, src.length, timeoutMs), flags);
  }

  /**
   * As `reserveBlocking()`, for threads that must not block (a page's main
   * thread): waits in `Atomics.waitAsync`. Resolves to `null` on timeout
   * (counted in `stats().dropped`); rejects with the signal's reason when
   * `signal` aborts (then nothing is counted or reserved).
   */
  async reserveAsync(len: number, options: WaitForRoomOptions = {}): Promise<Reservation | null> {
    checkLength(len, this.maxRecord);
    checkWaitOptions(options, 'reserveAsync()');
    const offset = await waitForRoomAsync(this, len, options);
    return offset === 0 ? null : new Reservation(this, offset, len);
  }

  /** As `output()`, waiting for room as `reserveAsync()` does; resolves to false only on timeout. */
  async outputAsync(
    bytes: ArrayBufferView,
    flags: CommitFlags | number = 0,
    options: WaitForRoomOptions = {},
  ): Promise<boolean> {
    const src = outputSource(bytes, flags, this.maxRecord, 'outputAsync()');
    checkWaitOptions(options, 'outputAsync()');
    const len = src.length;
    const offset = await waitForRoomAsync(this, len, options);
    // the bytes' buffer may have been transferred away during the wait: then they are gone, and so is the record
    if (offset !== 0 && (src.length !== len || (len === 0 && viewIsGone(src)))) {
      this.#commit(offset, 0, 1);
      throw goneError('outputAsync()');
    }
    return this.#copyIn(src, offset, flags);
  }

  // ---- the rest of the map's surface --------------------------------------

  /**
   * `bpf_ringbuf_query()`: `BPF_RB_AVAIL_DATA`, `BPF_RB_RING_SIZE`,
   * `BPF_RB_CONS_POS`, `BPF_RB_PROD_POS` or `BPF_RB_OVERWRITE_POS`, in bytes (headers and rounding
   * included). A snapshot: producers and the consumer keep moving.
   */
  query(key: QueryKey | number): number {
    if (typeof key !== 'number') {
      throw new RingBufferTypeError(`query key must be a number; got ${describeValue(key)}`, 'ERR_RINGBUF_TYPE');
    }
    if (!(key >= BPF_RB_AVAIL_DATA && key <= BPF_RB_OVERWRITE_POS && Number.isInteger(key))) {
      throw new RingBufferRangeError(
        `unknown query key ${key}: use BPF_RB_AVAIL_DATA (0), BPF_RB_RING_SIZE (1), BPF_RB_CONS_POS (2), ` +
          'BPF_RB_PROD_POS (3) or BPF_RB_OVERWRITE_POS (4)',
        'ERR_RINGBUF_QUERY',
      );
    }
    return this.core.query(key);
  }

  /** Loss and event counters of the ring, summed over every producer. */
  stats(): RingBufferStats {
    const at = (offset: number): number => this.core.counter(offset);
    return {
      dropped: at(OFF_DROPPED),
      discarded: at(OFF_DISCARDED),
      wakeups: at(OFF_WAKEUPS),
      lockWaits: at(OFF_LOCK_WAITS),
      reaped: at(OFF_REAPED),
      overwritten: at(OFF_OVERWRITTEN),
      roomWaits: at(OFF_ROOM_WAITS),
    };
  }

  /** The counters of producer `id` (a `producerId` from any thread attached to this ring). */
  producerStats(id: number): ProducerStats {
    checkInteger(id, 'producer id', MAX_PRODUCER_ID, 'Use the producerId of a RingBuffer attached to this ring.');
    return { dropped: this.core.producerCounter(id, 0), discarded: this.core.producerCounter(id, 1) };
  }

  /**
   * Cleans up after producer `id`, which is gone: call it once the worker
   * that held that producer id has exited (its `exit` event). Releases the
   * producer lock if it died holding it, discards every record it reserved
   * and never committed (counted in `stats().reaped` and its
   * `producerStats(id).discarded`), so that other producers and the consumer
   * carry on, and gives the id back for a new producer. A producer that goes
   * on running after its reap (a worker its engine did not stop at once, as
   * Deno's) writes nothing more: its next reserve or commit throws
   * `ERR_RINGBUF_REAPED`. The kernel needs no such call: a BPF program
   * cannot die between reserve and commit.
   */
  reapProducer(id: number): ReapResult {
    checkInteger(id, 'producer id', MAX_PRODUCER_ID, 'Use the producerId the dead worker reported.');
    if (id === 0 || !this.core.idInUse(id)) {
      const why =
        id === 0
          ? '0 is the anonymous id of producers past the 4094th and cannot be reaped'
          : 'never handed out, closed, or reaped already';
      throw new RingBufferRangeError(
        `producer id ${id} is not in use on this ring (${why}): reap the producerId the dead worker reported`,
        'ERR_RINGBUF_PRODUCER',
      );
    }
    if (id === this.producerId) {
      throw new RingBufferStateError(
        'a producer cannot reap itself: call reapProducer() from another RingBuffer on the same ring',
        'ERR_RINGBUF_PRODUCER',
      );
    }
    // A worker's exit does not always stop it (Deno's go on running for a while): a holder of the lock
    // that still runs leaves it within microseconds, so the lock is taken from it only if it does not.
    const until = performance.now() + REAP_GRACE_MS;
    while (this.core.lockHolder() === id && performance.now() < until) if (canBlock) this.core.waitForLock(1);
    const r = this.core.reap(id, this.producerId, this.#opts & RESERVE_CAN_BLOCK);
    this.core.releaseId(id);
    return { discarded: r & ~REAP_LOCK_RECOVERED, lockRecovered: (r & REAP_LOCK_RECOVERED) !== 0 };
  }

  /**
   * Frees the ring for a new consumer when its consumer's thread is gone
   * without `close()` (a terminated worker): the new one starts where the
   * old one last stored the consumer position. Returns whether the ring had
   * a consumer. Never call it while that consumer may still run.
   */
  reapConsumer(): boolean {
    return this.core.reapConsumer();
  }

  /**
   * The producer id holding the producer lock now, or null when it is free.
   * A snapshot. When several producers died, reap the one this names first:
   * `reapProducer()` of another waits for the lock.
   */
  lockHolder(): number | null {
    return this.core.lockHolder() || null;
  }

  /**
   * Gives this object's producer id back to the ring, for a producer that
   * attaches later; reserving through it afterwards throws. Commit every
   * reservation first (a small record's reservation still pending keeps the
   * id until its commit). The memory stays as long as any thread holds it.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    // a staged reservation still pending keeps the id, whose staging bytes hold its payload, until its commit
    if (!this.staging.taken) this.#releaseId();
  }

  #releaseId(): void {
    // once reaped, the id was given back by the reap, and may be another producer's now
    if (this.#idHeld && this.core.current(this.#who)) this.core.releaseId(this.producerId);
    this.#idHeld = false;
  }

  /** `using rb = await RingBuffer.attach(handle)` gives the producer id back at the end of the block. */
  [Symbol.dispose](): void {
    this.close();
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
    return this.#reserve(len);
  }

  /** `bpf_ringbuf_submit()` for an offset from `reserveRaw()`. */
  submitRaw(offset: number, flags: CommitFlags | number = 0): void {
    checkFlags(flags);
    this.checkPending(offset);
    this.#commit(offset, flags, 0);
  }

  /** `bpf_ringbuf_discard()` for an offset from `reserveRaw()`. */
  discardRaw(offset: number, flags: CommitFlags | number = 0): void {
    checkFlags(flags);
    this.checkPending(offset);
    this.#commit(offset, flags, 1);
  }

  /** @internal Commits a record this object reserved (the Reservation guards against a second commit). */
  commitReserved(offset: number, flags: number, discard: number, from = 0): void {
    this.#commit(offset, flags, discard, from);
  }

  #commit(offset: number, flags: number, discard: number, from = 0): void {
    const r = this.core.commit(offset, flags, discard, this.#who, from);
    if (this.#closed && !this.staging.taken) this.#releaseId(); // see close()
    if (r & COMMIT_REVOKED) throw reapedError(this.producerId);
  }

  /** @internal The wasm reservation, for callers that checked `len` (0: no room); `quiet`: a refusal is not counted. */
  reserveChecked(len: number, quiet = false): number {
    return this.#reserve(len, quiet ? this.#opts | RESERVE_QUIET : this.#opts);
  }

  /** @internal Counts a refusal made above the ring (a per-producer buffer's stamp bound); returns 0. */
  refuse(): number {
    this.core.countRefusal(this.producerId);
    return 0;
  }

  #reserve(len: number, opts = this.#opts): number {
    this.#checkOpen();
    const at = this.core.reserve(len, this.#who, opts);
    if (at === REVOKED) throw reapedError(this.producerId);
    return at;
  }

  #checkOpen(): void {
    if (this.#closed) {
      throw closedError('producer', 'attach again with RingBuffer.attach(handle) for a new producer id');
    }
  }

  /** output()'s second half: copies `src` into the reservation at `offset` and submits it. */
  #copyIn(src: Uint8Array, offset: number, flags: number): boolean {
    if (offset === 0) return false;
    this.bytes.set(src, offset);
    this.#commit(offset, flags, 0);
    return true;
  }

  /** @internal Throws, changing nothing, unless `offset` is a pending reservation of this ring. */
  checkPending(offset: number): void {
    checkOffset(offset);
    if (!this.core.isPending(offset)) {
      // a reaped producer's records were discarded by the reap: say that, not that it committed twice
      if (!this.core.current(this.#who)) throw reapedError(this.producerId);
      throw new RingBufferStateError(
        `offset ${describeValue(offset)} is not a pending reservation: ` +
          'commit each offset from reserveRaw() exactly once',
        'ERR_RINGBUF_COMMITTED',
      );
    }
  }
}
