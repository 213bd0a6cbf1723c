// Per-producer buffers (the design the BPF ring buffer was measured against,
// the kernel's per-CPU perf buffer): one single-producer ring per producer,
// so that no producer ever takes a lock or touches another's cache lines, and
// a consumer that merges the rings back into one order by a stamp each record
// carries. docs/perfbuf.md states the guarantee and the measured costs.
//
// The control memory (an Int32Array over a SharedArrayBuffer, beside the rings):
//
//  byte    0 ┌──────────────────────────────────────────────────────────────┐
//            │ line 0, written once: MAGIC │ VERSION │ PRODUCERS │ FLAGS     │
//  byte   64 ├── line 1: COUNTER, the stamp counter (+2 per record) ───────┤
//  byte  128 ├── line 2 + k, one per producer k: ─────────────────────────┤
//            │ LOW u32: IDLE (1), or an even lower bound of the stamp of    │
//            │          every record producer k has not yet committed       │
//            │ OWNER u32: producer id of the thread attached to slot k (0 = free)
//            └──────────────────────────────────────────────────────────────┘
//
// A record of an ordered buffer: the ring's 8-byte header, then an 8-byte
// prefix the user never sees, then the user's `len` bytes:
//
//   prefix word 0: STAMP, the COUNTER value this record took (even, wraps at 2^32)
//   prefix word 1: the producer's slot k
//
// Stamps are 32-bit and compared by their signed difference (serial-number
// arithmetic, as TCP sequence numbers). That is exact while every stamp still
// in a ring is within 2^31 counter steps (2^30 records) of COUNTER, which
// create() ensures by bounding the records all rings can hold together.

import { BPF_RB_NO_WAKEUP, type CommitFlags, type QueryKey } from './constants.js';
import { RingBufferRangeError, RingBufferStateError, RingBufferTypeError, checkFlags, checkInteger, checkLength, describeValue } from './errors.js';
import { OFF_WAIT } from './layout.js';
import { Reservation, RingBuffer, fillAndSubmit, outputSource, type RingBufferHandle, type RingBufferStats } from './ring-buffer.js';
import { RingCursor, checkCount, checkTimeout, pollRings, roundRobin } from './shard.js';

const PB_MAGIC = 0x42505046; // "FPPB"
const PB_VERSION = 1;
// line 0 (Int32 indexes)
const W_MAGIC = 0;
const W_VERSION = 1;
const W_PRODUCERS = 2;
const W_FLAGS = 3;
/** FLAGS: records carry a stamp (ordered buffer). */
const FLAG_ORDERED = 0x1;
// line 1
const W_COUNTER = 16;
// line 2 + k
const W_SLOTS = 32;
const SLOT_WORDS = 16; // one 64-byte line per producer
const SLOT_LOW = 0;
const SLOT_OWNER = 1;
/** LOW of a producer with nothing reserved. Stamps are even, so an odd LOW is never a bound. */
const IDLE = 1;
/** COUNTER step: stamps stay even. */
const STAMP_STEP = 2;
/** Bytes of the hidden prefix of an ordered buffer's records. */
const PREFIX = 8;
const MAX_PRODUCERS = 256;
/** Records all rings together may hold: far inside the 2^30 records of the signed stamp window. */
const MAX_RECORDS_HELD = 2 ** 28;

function controlBytes(producers: number): number {
  return 4 * (W_SLOTS + producers * SLOT_WORDS);
}

/** Options of `PerfBuffer.create()`. */
export interface PerfBufferOptions {
  /** Number of producers, one ring each (the number of CPUs of a perf buffer), 1..256. */
  producers: number;
  /** Bytes in each ring's data area: a power of two from 4096, as `RingBuffer`. */
  size: number;
  /** Largest payload, as `RingBuffer` (default and maximum: `size - 16`, less the 8-byte stamp prefix when ordered). */
  maxRecord?: number;
  /**
   * Stamp every record so that `PerfBufferConsumer` can merge the rings into
   * one global order (default true). `false` saves the 8-byte prefix and the
   * shared counter (the cheap path): records then keep per-producer order only.
   */
  ordered?: boolean;
}

/** What `PerfBuffer.handle` returns: structured-cloneable; post it to each producer's worker. */
export interface PerfBufferHandle {
  readonly kind: 'wasm-ringbuf-perfbuf';
  readonly version: number;
  readonly control: SharedArrayBuffer;
  readonly rings: readonly RingBufferHandle[];
}

function badHandle(why: string): RingBufferTypeError {
  return new RingBufferTypeError(`not a perf buffer handle: ${why}. Pass the value of pb.handle from PerfBuffer.create().`, 'ERR_RINGBUF_HANDLE');
}

function checkSlot(slot: unknown, producers: number): asserts slot is number {
  checkInteger(slot, 'producer slot', producers - 1, `This perf buffer has ${producers} producer slots, 0 to ${producers - 1}.`);
}

/**
 * Per-producer buffers: one single-producer ring per producer, created
 * together and shared through one handle, the twin of the kernel's per-CPU
 * perf buffer (`BPF_MAP_TYPE_PERF_EVENT_ARRAY`). Each producer attaches to its
 * own slot (`PerfBuffer.attach(handle, slot)`) and writes with the
 * `RingBuffer` surface, taking no lock; `PerfBufferConsumer` reads every
 * ring, in one global order or per producer.
 */
export class PerfBuffer {
  /** The rings, producer slot 0 first (attached in this thread; do not produce through them). */
  readonly rings: readonly RingBuffer[];
  /** Whether records carry stamps for the ordered merge. */
  readonly ordered: boolean;
  /** Largest payload one record may carry. */
  readonly maxRecord: number;
  /** @internal */ readonly control: Int32Array;

  private constructor(control: SharedArrayBuffer, rings: RingBuffer[]) {
    this.control = new Int32Array(control);
    this.rings = rings;
    this.ordered = (this.control[W_FLAGS]! & FLAG_ORDERED) !== 0;
    this.maxRecord = rings[0]!.maxRecord - (this.ordered ? PREFIX : 0);
  }

  /** Number of producer slots. */
  get producers(): number {
    return this.rings.length;
  }

  /**
   * Creates `producers` rings of `size` bytes and their control memory.
   * Rejects with a `RingBufferTypeError` or `RingBufferRangeError` on bad options.
   */
  static async create(options: PerfBufferOptions): Promise<PerfBuffer> {
    if (options === null || typeof options !== 'object') {
      throw new RingBufferTypeError(`PerfBuffer.create() takes an options object such as { producers: 4, size: 65536 }; got ${describeValue(options)}`, 'ERR_RINGBUF_TYPE');
    }
    const { producers, size, ordered = true } = options;
    checkInteger(producers, 'producers', MAX_PRODUCERS, `Use one slot per producer thread, 1 to ${MAX_PRODUCERS}.`);
    if (producers === 0) throw new RingBufferRangeError('producers must be at least 1; got 0', 'ERR_RINGBUF_RANGE');
    if (typeof ordered !== 'boolean') throw new RingBufferTypeError(`ordered must be a boolean; got ${describeValue(ordered)}`, 'ERR_RINGBUF_TYPE');
    const prefix = ordered ? PREFIX : 0;
    if (typeof size === 'number' && producers * (size / 16) > MAX_RECORDS_HELD) {
      throw new RingBufferRangeError(
        `${producers} rings of ${size} bytes hold too many records for 32-bit stamps; keep producers × size at most 2^32 (for example ${producers} × ${2 ** Math.floor(Math.log2(2 ** 32 / producers))})`,
        'ERR_RINGBUF_SIZE',
      );
    }
    let maxRecord: number | undefined;
    if (options.maxRecord !== undefined) {
      const largest = typeof size === 'number' ? size - 16 - prefix : 0;
      checkInteger(options.maxRecord, 'maxRecord', Math.max(0, largest),
        `A ring of ${size} bytes holds payloads of up to ${size} - 16 bytes${ordered ? ', less the 8-byte stamp prefix of an ordered buffer' : ''}.`);
      maxRecord = options.maxRecord + prefix;
    } else if (typeof size === 'number' && ordered) {
      maxRecord = size - 16; // the ring's largest; the user's is 8 bytes less
    }
    const rings: RingBuffer[] = [];
    for (let k = 0; k < producers; k++) {
      // RingBuffer.create validates size (and rejects before anything is shared)
      rings.push(await RingBuffer.create({ size, ...(maxRecord === undefined ? {} : { maxRecord }), singleProducer: true }));
    }
    const control = new SharedArrayBuffer(controlBytes(producers));
    const c = new Int32Array(control);
    c[W_VERSION] = PB_VERSION;
    c[W_PRODUCERS] = producers;
    c[W_FLAGS] = ordered ? FLAG_ORDERED : 0;
    for (let k = 0; k < producers; k++) c[W_SLOTS + k * SLOT_WORDS + SLOT_LOW] = IDLE;
    // last: attach() trusts nothing until it sees the magic
    Atomics.store(c, W_MAGIC, PB_MAGIC);
    return new PerfBuffer(control, rings);
  }

  /**
   * Attaches this thread as the producer of `slot` (0 .. producers - 1): one
   * thread per slot, so the slot's ring needs no lock. Rejects when the slot
   * is taken (call `close()` on its producer, or `reapProducer(slot)` after its
   * thread died) or the handle is not a perf buffer's.
   */
  static async attach(handle: PerfBufferHandle, slot: number): Promise<PerfBufferProducer> {
    const control = checkHandle(handle);
    const c = new Int32Array(control);
    const producers = c[W_PRODUCERS]!;
    checkSlot(slot, producers);
    const ring = await RingBuffer.attach(handle.rings[slot]!);
    const owner = W_SLOTS + slot * SLOT_WORDS + SLOT_OWNER;
    if (Atomics.compareExchange(c, owner, 0, ring.producerId || -1) !== 0) {
      throw new RingBufferStateError(
        `producer slot ${slot} already has a producer: a slot's ring takes no lock, so it takes one producer thread. Use another slot, or close() the producer first.`,
        'ERR_RINGBUF_SLOT',
      );
    }
    return new PerfBufferProducer(ring, c, slot);
  }

  /** A structured-cloneable handle for `PerfBuffer.attach()` in another thread. */
  get handle(): PerfBufferHandle {
    return { kind: 'wasm-ringbuf-perfbuf', version: PB_VERSION, control: this.control.buffer as SharedArrayBuffer, rings: this.rings.map((r) => r.handle) };
  }

  /** Counters of slot `slot`'s ring (its `dropped` are that producer's refusals). */
  stats(slot: number): RingBufferStats {
    checkSlot(slot, this.producers);
    return this.rings[slot]!.stats();
  }

  /**
   * Cleans up after the producer of `slot`, whose thread is gone (call it
   * after the worker's `exit` event, never while it may run): discards the
   * records it reserved and never committed (`RingBuffer.reapProducer()`),
   * marks it idle so that the ordered merge stops waiting for it, and frees
   * the slot for a new producer. Returns the number of records discarded.
   */
  reapProducer(slot: number): number {
    checkSlot(slot, this.producers);
    const base = W_SLOTS + slot * SLOT_WORDS;
    const id = Atomics.load(this.control, base + SLOT_OWNER);
    let discarded = 0;
    if (id > 0) discarded = this.rings[slot]!.reapProducer(id).discarded;
    Atomics.store(this.control, base + SLOT_LOW, IDLE);
    Atomics.store(this.control, base + SLOT_OWNER, 0);
    this.rings[slot]!.ex.wake(this.rings[slot]!.ctl);
    return discarded;
  }
}

function checkHandle(handle: PerfBufferHandle): SharedArrayBuffer {
  if (handle === null || typeof handle !== 'object') throw badHandle(`got ${describeValue(handle)}`);
  if (handle.kind !== 'wasm-ringbuf-perfbuf') throw badHandle('its kind is not "wasm-ringbuf-perfbuf"');
  if (handle.version !== PB_VERSION) throw badHandle(`version ${describeValue(handle.version)}, this package reads ${PB_VERSION}`);
  const { control, rings } = handle;
  if (!(control instanceof SharedArrayBuffer) || control.byteLength < controlBytes(1)) throw badHandle('control is not its SharedArrayBuffer');
  const c = new Int32Array(control);
  if (Atomics.load(c, W_MAGIC) !== PB_MAGIC) throw badHandle('no perf buffer in its control memory (magic differs)');
  const producers = c[W_PRODUCERS]!;
  if (!Array.isArray(rings) || rings.length !== producers || control.byteLength < controlBytes(producers)) {
    throw badHandle(`it should hold ${producers} rings`);
  }
  return control;
}

/**
 * The producer of one slot of a `PerfBuffer`, in the thread that attached
 * it: the `RingBuffer` producer surface (reserve/submit/discard, output,
 * query, the zero-allocation raw path, the same flags), without a lock. Use
 * it from that thread only.
 *
 * Stamps (ordered buffers): before it reserves, a producer with nothing
 * reserved publishes a lower bound of its next stamp (LOW = COUNTER, read
 * fresh); after the reservation it takes STAMP = fetch_add(COUNTER, 2) and
 * writes it in the hidden prefix; when its last outstanding record is
 * committed it stores LOW = IDLE and then applies the wakeup rule. The
 * consumer's watermark argument (PerfBufferConsumer) rests on that order.
 */
export class PerfBufferProducer {
  /** This producer's slot. */
  readonly slot: number;
  /** Largest payload one record may carry. */
  readonly maxRecord: number;
  /**
   * The slot ring's whole shared memory as bytes: the raw path writes
   * payloads at the offsets `reserveRaw()` returns. Never goes stale.
   */
  readonly bytes: Uint8Array;
  /** Whether records carry stamps. */
  readonly ordered: boolean;
  /** @internal */ readonly ring: RingBuffer;
  readonly #control: Int32Array;
  readonly #low: number;
  readonly #owner: number;
  readonly #i32: Int32Array;
  readonly #wait: number;
  #outstanding = 0;
  #closed = false;

  /** @internal */
  constructor(ring: RingBuffer, control: Int32Array, slot: number) {
    this.ring = ring;
    this.slot = slot;
    this.#control = control;
    this.#low = W_SLOTS + slot * SLOT_WORDS + SLOT_LOW;
    this.#owner = W_SLOTS + slot * SLOT_WORDS + SLOT_OWNER;
    this.ordered = (control[W_FLAGS]! & FLAG_ORDERED) !== 0;
    this.maxRecord = ring.maxRecord - (this.ordered ? PREFIX : 0);
    this.bytes = ring.bytes;
    this.#i32 = ring.i32;
    this.#wait = (ring.ctl + OFF_WAIT) >> 2;
  }

  /**
   * `bpf_ringbuf_reserve()` / `perf_event_output`'s reservation: the offset
   * in `bytes` of a `len`-byte payload, or 0 when the slot's ring has no room
   * now (counted in its `stats().dropped` and reported to the consumer as
   * lost). Write the payload, then `submitRaw(offset)` or `discardRaw(offset)`.
   */
  reserveRaw(len: number): number {
    if (!((len >>> 0) === len && len <= this.maxRecord)) checkLength(len, this.maxRecord);
    if (this.#closed) throw closedError();
    if (!this.ordered) return this.ring.reserveRaw(len);
    const c = this.#control;
    // Publish a lower bound of the stamp about to be taken before taking it:
    // pairs with the LOW loads after the COUNTER load in #watermark() (PerfBufferConsumer).
    if (this.#outstanding++ === 0) Atomics.store(c, this.#low, Atomics.load(c, W_COUNTER));
    const off = this.ring.reserveRaw(len + PREFIX);
    if (off === 0) {
      if (--this.#outstanding === 0) Atomics.store(c, this.#low, IDLE);
      return 0;
    }
    // the stamp, after the reservation: refused records take none
    const i = off >> 2;
    this.#i32[i] = Atomics.add(c, W_COUNTER, STAMP_STEP);
    this.#i32[i + 1] = this.slot;
    return off + PREFIX;
  }

  /** `bpf_ringbuf_submit()` for an offset from `reserveRaw()`. */
  submitRaw(offset: number, flags: CommitFlags | number = 0): void {
    this.#commit(offset, flags, 0);
  }

  /** `bpf_ringbuf_discard()` for an offset from `reserveRaw()`. */
  discardRaw(offset: number, flags: CommitFlags | number = 0): void {
    this.#commit(offset, flags, 1);
  }

  #commit(offset: number, flags: number, discard: number): void {
    if (!this.ordered) {
      this.ring.commitRaw(offset, flags, discard);
      return;
    }
    if (flags !== 0 && flags !== 1 && flags !== 2) checkFlags(flags);
    // the ring's own wakeup is skipped: the consumer may not emit this record before LOW is IDLE
    this.ring.commitRaw(offset - PREFIX, BPF_RB_NO_WAKEUP, discard); // throws, changing nothing, on a bad offset
    if (--this.#outstanding === 0) Atomics.store(this.#control, this.#low, IDLE);
    // After the IDLE store, a consumer asleep on this ring (WAIT = 1) is woken:
    // pairs with its WAIT store before its last look (pollRings() in src/shard.ts).
    if (flags !== BPF_RB_NO_WAKEUP && Atomics.load(this.#i32, this.#wait) !== 0) this.ring.ex.wake(this.ring.ctl);
  }

  /** `bpf_ringbuf_reserve()`: a `PerfReservation` whose `data` is exactly `len` bytes, or null when full. */
  reserve(len: number): PerfReservation | null {
    checkLength(len, this.maxRecord);
    const off = this.reserveRaw(len);
    return off === 0 ? null : new PerfReservation(this, off, len);
  }

  /** `bpf_ringbuf_output()` (`bpf_perf_event_output()`): copies `bytes` in and submits; false when full. */
  output(bytes: ArrayBufferView, flags: CommitFlags | number = 0): boolean {
    const src = outputSource(bytes, flags, this.maxRecord);
    const off = this.reserveRaw(src.length);
    if (off === 0) return false;
    this.bytes.set(src, off);
    this.#commit(off, flags, 0);
    return true;
  }

  /** As `RingBuffer.write()`: reserve, `fill(data)`, submit; discard and rethrow if `fill` throws. */
  write(len: number, fill: (data: Uint8Array) => void, flags: CommitFlags | number = 0): boolean {
    checkFlags(flags);
    return fillAndSubmit(this.reserve(len), fill, flags);
  }

  /**
   * `bpf_ringbuf_query()` on this slot's ring. Positions count the ring's
   * bytes: headers, rounding and, in an ordered buffer, the 8-byte stamp prefix.
   */
  query(key: QueryKey | number): number {
    return this.ring.query(key);
  }

  /** The counters of this slot's ring. */
  stats(): RingBufferStats {
    return this.ring.stats();
  }

  /**
   * Gives the slot up so that another thread may attach to it. Records still
   * reserved must be committed first.
   */
  close(): void {
    if (this.#closed) return;
    if (this.#outstanding !== 0) {
      throw new RingBufferStateError(`${this.#outstanding} record(s) are still reserved: submit or discard them before close()`, 'ERR_RINGBUF_PENDING');
    }
    this.#closed = true;
    Atomics.store(this.#control, this.#owner, 0);
  }
}

function closedError(): RingBufferStateError {
  return new RingBufferStateError('this producer was closed: attach again with PerfBuffer.attach(handle, slot)', 'ERR_RINGBUF_CLOSED');
}

/** A record reserved by `PerfBufferProducer.reserve()`: as `Reservation`, fill `data`, then submit or discard once. */
export class PerfReservation extends Reservation {}

/**
 * Called once per record: `data` is a view of its payload, valid only during
 * the call; `producer` its slot; `stamp` its place in the global order (0, 1,
 * 2, ... across all producers, in reservation order; records discarded by
 * their producer leave gaps), or -1 in a buffer created with `ordered: false`.
 * Return a negative number to stop the loop.
 */
export type PerfSampleCallback = (data: Uint8Array, producer: number, stamp: number) => number | void;
/** The zero-allocation form: the payload is `bytes[offset .. offset + length)`, valid during the call. */
export type PerfRawSampleCallback = (bytes: Uint8Array, offset: number, length: number, producer: number, stamp: number) => number | void;
/**
 * libbpf's `perf_buffer_lost_fn` (`PERF_RECORD_LOST`): `count` records of
 * `producer` were refused for lack of room since its previous record in the
 * stream and before its next one.
 */
export type PerfLostCallback = (producer: number, count: number) => void;

/** Options of `PerfBufferConsumer`. */
export interface PerfBufferConsumerOptions {
  /** Per record, with a view of the payload. Give this or `sampleRaw`. */
  sample?: PerfSampleCallback;
  /** Per record, zero-allocation form. */
  sampleRaw?: PerfRawSampleCallback;
  /** Lost records, in stream order (before the producer's next record). Without it, losses are only counted in `lost()`. */
  lost?: PerfLostCallback;
  /**
   * Deliver in one global order by stamp (default: true when the buffer is
   * ordered). `false` is the cheap path: each producer's records in its own
   * order, producers served round-robin, no watermark.
   */
  ordered?: boolean;
  /** Unordered mode: records per producer per turn (default 16), as `FairConsumer`'s quantum. */
  quantum?: number;
}

/**
 * The consumer of a `PerfBuffer`, the twin of libbpf's `struct perf_buffer`
 * (`perf_buffer__new` with `sample_cb` and `lost_cb`, `perf_buffer__poll`,
 * `perf_buffer__consume`), plus what libbpf leaves to its users: an ordered
 * merge of the per-producer rings.
 *
 * Ordered mode delivers records by increasing stamp, and only records below
 * the watermark W = min(COUNTER, LOW of every busy producer), read in that
 * order (COUNTER first). Every record with a stamp below W is committed and
 * visible by the time W is read, so nothing delivered can later be preceded
 * by a smaller stamp. A producer that is idle holds nothing back; one that
 * has taken a stamp and not committed holds back every record stamped after
 * its lower bound, until it commits. One thread only.
 */
export class PerfBufferConsumer {
  readonly #pb: PerfBuffer;
  readonly #cursors: RingCursor[];
  readonly #sample: PerfSampleCallback | null;
  readonly #raw: PerfRawSampleCallback | null;
  readonly #lostCb: PerfLostCallback | null;
  readonly #ordered: boolean;
  readonly #quantum: number;
  readonly #control: Int32Array;
  readonly #buffers: ArrayBufferLike[];
  /** Per producer: losses reported in all, and reported ahead of the record that carries them. */
  readonly #reported: number[];
  readonly #ahead: number[];
  /** COUNTER as last read, and its extension past 2^32 (a Number, exact below 2^53). */
  #c32 = 0;
  #cExt = 0;
  readonly #turns = { start: 0 };
  /** Scratch of #merge(): slots with a deliverable head, and each slot's head stamp relative to COUNTER. */
  readonly #ready: Int32Array;
  readonly #rels: Int32Array;

  constructor(pb: PerfBuffer, options: PerfBufferConsumerOptions) {
    if (!(pb instanceof PerfBuffer)) throw new RingBufferTypeError(`PerfBufferConsumer takes a PerfBuffer from PerfBuffer.create(); got ${describeValue(pb)}`, 'ERR_RINGBUF_TYPE');
    if (options === null || typeof options !== 'object') throw new RingBufferTypeError(`options must be an object such as { sample }; got ${describeValue(options)}`, 'ERR_RINGBUF_TYPE');
    const { sample, sampleRaw, lost, ordered = pb.ordered, quantum = 16 } = options;
    if ((sample === undefined) === (sampleRaw === undefined)) {
      throw new RingBufferTypeError('give exactly one of sample (data, producer, stamp) and sampleRaw (bytes, offset, length, producer, stamp)', 'ERR_RINGBUF_TYPE');
    }
    for (const [name, f] of [['sample', sample], ['sampleRaw', sampleRaw], ['lost', lost]] as const) {
      if (f !== undefined && typeof f !== 'function') throw new RingBufferTypeError(`${name} must be a function; got ${describeValue(f)}`, 'ERR_RINGBUF_TYPE');
    }
    if (typeof ordered !== 'boolean') throw new RingBufferTypeError(`ordered must be a boolean; got ${describeValue(ordered)}`, 'ERR_RINGBUF_TYPE');
    if (ordered && !pb.ordered) {
      throw new RingBufferStateError('this perf buffer was created with ordered: false, so its records carry no stamps; create it with ordered: true', 'ERR_RINGBUF_UNORDERED');
    }
    checkInteger(quantum, 'quantum', 2 ** 30, 'Use a positive integer such as 16.');
    if (quantum === 0) throw new RingBufferRangeError('quantum must be at least 1; got 0', 'ERR_RINGBUF_RANGE');
    this.#pb = pb;
    this.#cursors = pb.rings.map((r) => new RingCursor(r));
    this.#buffers = pb.rings.map((r) => r.memory.buffer);
    this.#sample = sample ?? null;
    this.#raw = sampleRaw ?? null;
    this.#lostCb = lost ?? null;
    this.#ordered = ordered;
    this.#quantum = quantum;
    this.#control = pb.control;
    this.#reported = pb.rings.map(() => 0);
    this.#ahead = pb.rings.map(() => 0);
    this.#ready = new Int32Array(pb.rings.length);
    this.#rels = new Int32Array(pb.rings.length);
    this.#c32 = Atomics.load(this.#control, W_COUNTER);
    this.#cExt = this.#c32 >>> 0;
  }

  /** Records lost by each producer slot, as reported to the `lost` callback so far. */
  lost(): number[] {
    return [...this.#reported];
  }

  /**
   * `perf_buffer__consume()`: delivers what can be delivered now, of the
   * records reserved before the call began (so it ends even while a producer
   * floods); the count, or a callback's negative number.
   */
  consume(): number {
    return this.#consume(Infinity, true);
  }

  /** Up to `n` records (`ring_buffer__consume_n()`). */
  consumeN(n: number): number {
    checkCount(n);
    return this.#consume(n, false);
  }

  #consume(n: number, snapshot: boolean): number {
    const r = this.#ordered ? this.#merge(n, snapshot) : this.#roundRobin(n, snapshot);
    if (r >= 0 && r < n) this.#trailingLosses();
    return r;
  }

  /**
   * `perf_buffer__poll()`: consumes what it can; if nothing, sleeps until a
   * producer's wakeup or `timeoutMs` (-1: without end, 0: not at all).
   */
  poll(timeoutMs = -1): Promise<number> {
    const ms = checkTimeout(timeoutMs);
    return pollRings(this.#cursors, ms, () => this.consume(), () => (this.#ordered ? this.#mergeable() : this.#cursors.some((c) => c.peek())));
  }

  /** Reads COUNTER and extends it past 2^32; returns it. */
  #readCounter(): number {
    const c32 = Atomics.load(this.#control, W_COUNTER);
    this.#cExt += (c32 - this.#c32) >>> 0;
    this.#c32 = c32;
    return c32;
  }

  /**
   * The watermark, as a signed offset from COUNTER (so 0 or less): no record
   * stamped below it can still appear. COUNTER is read before the LOW words:
   * a stamp s below that COUNTER was taken before the read, after its
   * producer stored a bound LOW <= s, so the LOW read next is that bound
   * (W <= s), or IDLE or a newer bound, both stored after s was committed.
   * Reading LOW first would let a producer idle at that read take a stamp,
   * and others commit later ones, all before the COUNTER read.
   */
  #watermark(c32: number): number {
    const c = this.#control;
    let w = 0;
    for (let k = 0, i = W_SLOTS + SLOT_LOW; k < this.#cursors.length; k++, i += SLOT_WORDS) {
      // pairs with the LOW stores in PerfBufferProducer.reserveRaw() and #commit()
      const low = Atomics.load(c, i);
      if (low === IDLE) continue;
      const rel = (low - c32) | 0;
      if (rel < w) w = rel;
    }
    return w;
  }

  /** Whether the ordered merge could deliver a record now (for poll's last look before sleeping). */
  #mergeable(): boolean {
    const c32 = this.#readCounter();
    const w = this.#watermark(c32);
    for (const cur of this.#cursors) if (cur.peek() && ((this.#stampOf(cur) - c32) | 0) < w) return true;
    return false;
  }

  #stampOf(cur: RingCursor): number {
    return cur.i32[cur.off >> 2]!; // prefix word 0
  }

  #merge(n: number, snapshot: boolean): number {
    const cursors = this.#cursors;
    const k = cursors.length;
    const ready = this.#ready;
    const rels = this.#rels;
    // consume(): stamps taken after the call began wait for the next call
    const c0 = snapshot ? Atomics.load(this.#control, W_COUNTER) : 0;
    let total = 0;
    try {
      while (total < n) {
        const c32 = this.#readCounter();
        const w = snapshot ? Math.min(this.#watermark(c32), (c0 - c32) | 0) : this.#watermark(c32);
        // Every record stamped below w is visible now: a ring with no head, or
        // with a head at or above w, has nothing more for this pass.
        let m = 0;
        for (let i = 0; i < k; i++) {
          const cur = cursors[i]!;
          if (!cur.peek()) continue;
          const rel = (this.#stampOf(cur) - c32) | 0;
          if (rel < w) {
            rels[i] = rel;
            ready[m++] = i;
          }
        }
        if (m === 0) break;
        while (total < n && m > 0) {
          let best = 0;
          let bestRel = rels[ready[0]!]!;
          for (let j = 1; j < m; j++) {
            const rel = rels[ready[j]!]!;
            if (rel < bestRel) {
              best = j;
              bestRel = rel;
            }
          }
          const slot = ready[best]!;
          const cur = cursors[slot]!;
          const r = this.#deliver(cur, slot, (this.#cExt + bestRel) / STAMP_STEP);
          total++;
          if (typeof r === 'number' && r < 0) return r;
          if ((total & 255) === 0) cur.publish();
          if (cur.peek()) {
            const rel = (this.#stampOf(cur) - c32) | 0;
            if (rel < w) {
              rels[slot] = rel;
              continue;
            }
          }
          ready[best] = ready[--m]!;
        }
      }
      return total;
    } finally {
      for (const cur of cursors) cur.publish();
    }
  }

  #roundRobin(n: number, snapshot: boolean): number {
    const c32 = this.#pb.ordered ? this.#readCounter() : 0;
    return roundRobin(this.#cursors, this.#turns, this.#quantum, n, snapshot, (i) => {
      const cur = this.#cursors[i]!;
      const stamp = this.#pb.ordered ? (this.#cExt + ((this.#stampOf(cur) - c32) | 0)) / STAMP_STEP : -1;
      return this.#deliver(cur, i, stamp);
    });
  }

  /** Reports the head record's losses, takes it and hands it to the sample callback. */
  #deliver(cur: RingCursor, slot: number, stamp: number): number | void {
    const prefix = this.#pb.ordered ? PREFIX : 0;
    const off = cur.off + prefix;
    const len = cur.len - prefix;
    let lost = cur.take();
    if (lost !== 0) {
      // some of them may have been reported already, after this producer's previous record
      const early = Math.min(lost, this.#ahead[slot]!);
      this.#ahead[slot]! -= early;
      lost -= early;
      if (lost !== 0) {
        this.#reported[slot]! += lost;
        this.#lostCb?.(slot, lost);
      }
    }
    return this.#raw !== null ? this.#raw(cur.ring.bytes, off, len, slot, stamp) : this.#sample!(new Uint8Array(this.#buffers[slot]!, off, len), slot, stamp);
  }

  /**
   * Losses after a producer's last record, reported without waiting for its
   * next record (the ring alone reports them only with that record). Only
   * for rings fully consumed whose PRODUCER_POS did not move while DROPPED
   * was read: every refusal counted then came after the last record read and
   * before any later reservation.
   */
  #trailingLosses(): void {
    for (let slot = 0; slot < this.#cursors.length; slot++) {
      const cur = this.#cursors[slot]!;
      const { ring } = cur;
      const prod = ring.ex.producerPos(ring.ctl);
      if (prod !== cur.cons || cur.off >= 0) continue;
      const dropped = ring.ex.counter(ring.ctl, 0); // DROPPED: the refusals of this slot's one producer
      if (ring.ex.producerPos(ring.ctl) !== prod) continue;
      const unreported = dropped - this.#reported[slot]!;
      if (unreported <= 0) continue;
      this.#reported[slot]! += unreported;
      this.#ahead[slot]! += unreported;
      this.#lostCb?.(slot, unreported);
    }
  }
}
