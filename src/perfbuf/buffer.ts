// PerfBuffer: the per-producer rings and their control memory, created
// together and shared through one handle (layout in ./layout.ts).

import {
  RingBufferRangeError,
  RingBufferStateError,
  RingBufferTypeError,
  checkBoolean,
  checkInteger,
  checkOptions,
  checkPositive,
  describeValue,
} from '../errors.js';
import { REAP_LOCK_RECOVERED } from '../layout.js';
import { RingBuffer, type RingBufferHandle, type RingBufferStats } from '../ring-buffer.js';
import { checkSize } from '../ring-options.js';
import {
  FLAG_ORDERED,
  IDLE,
  MAX_PRODUCERS,
  MAX_RECORDS_HELD,
  PB_MAGIC,
  PB_VERSION,
  PREFIX,
  SLOT_LOW,
  SLOT_OWNER,
  SLOT_WORDS,
  W_FLAGS,
  W_MAGIC,
  W_PRODUCERS,
  W_SLOTS,
  W_VERSION,
  controlBytes,
} from './layout.js';
import { PerfBufferProducer } from './producer.js';

/** Options of `PerfBuffer.create()`. */
export interface PerfBufferOptions {
  /** Number of producers, one ring each (the number of CPUs of a perf buffer), 1..256. */
  producers: number;
  /** Bytes in each ring's data area: a power of two from 4096, as `RingBuffer`. */
  size: number;
  /** Largest payload, as `RingBuffer` (default and maximum: `size - 16`, less the 8-byte stamp prefix if ordered). */
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
  return new RingBufferTypeError(
    `not a perf buffer handle: ${why}. Pass the value of pb.handle from PerfBuffer.create().`,
    'ERR_RINGBUF_HANDLE',
  );
}

function checkSlot(slot: unknown, producers: number): asserts slot is number {
  checkInteger(
    slot,
    'producer slot',
    producers - 1,
    `This perf buffer has ${producers} producer slots, 0 to ${producers - 1}.`,
  );
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
    checkOptions(options, 'PerfBuffer.create()', '{ producers: 4, size: 65536 }');
    const { producers, size, ordered = true } = options;
    checkPositive(producers, 'producers', MAX_PRODUCERS, `Use one slot per producer thread, 1 to ${MAX_PRODUCERS}.`);
    checkSize(size);
    checkBoolean(ordered, 'ordered');
    const prefix = ordered ? PREFIX : 0;
    if (producers * (size / 16) > MAX_RECORDS_HELD) {
      const fits = 2 ** Math.floor(Math.log2(2 ** 32 / producers));
      throw new RingBufferRangeError(
        `${producers} rings of ${size} bytes hold too many records for 32-bit stamps; ` +
          `keep producers × size at most 2^32 (for example ${producers} × ${fits})`,
        'ERR_RINGBUF_SIZE',
      );
    }
    let maxRecord: number | undefined;
    if (options.maxRecord !== undefined) {
      const less = ordered ? ', less the 8-byte stamp prefix of an ordered buffer' : '';
      checkInteger(
        options.maxRecord,
        'maxRecord',
        size - 16 - prefix,
        `A ring of ${size} bytes holds payloads of up to ${size} - 16 bytes${less}.`,
      );
      maxRecord = options.maxRecord + prefix;
    } else if (ordered) {
      maxRecord = size - 16; // the ring's largest; the user's is 8 bytes less
    }
    const rings: RingBuffer[] = [];
    for (let k = 0; k < producers; k++) {
      const ring = maxRecord === undefined ? { size } : { size, maxRecord };
      rings.push(await RingBuffer.create({ ...ring, singleProducer: true }));
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
      ring.close();
      throw new RingBufferStateError(
        `producer slot ${slot} already has a producer: a slot's ring takes no lock, so it takes one producer ` +
          'thread. Use another slot, or close() the producer first.',
        'ERR_RINGBUF_SLOT',
      );
    }
    return new PerfBufferProducer(ring, c, slot);
  }

  /** A structured-cloneable handle for `PerfBuffer.attach()` in another thread. */
  get handle(): PerfBufferHandle {
    const control = this.control.buffer as SharedArrayBuffer;
    return { kind: 'wasm-ringbuf-perfbuf', version: PB_VERSION, control, rings: this.rings.map((r) => r.handle) };
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
    const ring = this.rings[slot]!;
    const id = Atomics.load(this.control, base + SLOT_OWNER);
    // A slot's ring has one producer, so reap() discards every BUSY record
    // there without needing that producer's id; the id, if it has one, is given back.
    const discarded = ring.core.reap(Math.max(id, 0), ring.producerId, 1) & ~REAP_LOCK_RECOVERED;
    if (id > 0) ring.core.releaseId(id);
    Atomics.store(this.control, base + SLOT_LOW, IDLE);
    Atomics.store(this.control, base + SLOT_OWNER, 0);
    ring.core.wake(1);
    return discarded;
  }
}

function checkHandle(handle: PerfBufferHandle): SharedArrayBuffer {
  if (handle === null || typeof handle !== 'object') throw badHandle(`got ${describeValue(handle)}`);
  if (handle.kind !== 'wasm-ringbuf-perfbuf') throw badHandle('its kind is not "wasm-ringbuf-perfbuf"');
  if (handle.version !== PB_VERSION) {
    throw badHandle(`version ${describeValue(handle.version)}, this package reads ${PB_VERSION}`);
  }
  const { control, rings } = handle;
  if (!(control instanceof SharedArrayBuffer) || control.byteLength < controlBytes(1)) {
    throw badHandle('control is not its SharedArrayBuffer');
  }
  const c = new Int32Array(control);
  if (Atomics.load(c, W_MAGIC) !== PB_MAGIC) throw badHandle('no perf buffer in its control memory (magic differs)');
  const producers = c[W_PRODUCERS]!;
  if (!Array.isArray(rings) || rings.length !== producers || control.byteLength < controlBytes(producers)) {
    throw badHandle(`it should hold ${producers} rings`);
  }
  return control;
}
