// The consumers of rings: libbpf's `struct ring_buffer` (RingBufferConsumer)
// over what every consumer shares: the walks of its rings (src/walk.ts) and
// its Waiter (src/wait.ts), with poll(), pollSync() and close() on top of its
// consume() (WaitingConsumer); and, for the consumers that take a callback
// per ring (RingBufferConsumer, FairConsumer), add(), rings and stalls()
// (CallbackConsumer).

import {
  RingBufferStateError,
  RingBufferTypeError,
  checkCount,
  checkFunction,
  checkNonNegative,
  checkTimeout,
  describeValue,
} from './errors.js';
import { RingBuffer } from './ring-buffer.js';
import { Waiter, checkOneRing, napOption, pollArgs, type PollOptions, type WaitOptions } from './wait.js';
import { RingWalk, type RecordVisitor } from './walk.js';

export type { PollOptions, WaitOptions } from './wait.js';

/**
 * Called once per record with a view of its payload, valid only during the
 * call (copy what you keep). `lost` is the number of records lost just before
 * this one: refused for lack of room since the previous record delivered from
 * this ring, or, in overwrite mode, overwritten unread right before it.
 * Return a negative number to stop the loop; that number is returned.
 */
export type SampleCallback = (data: Uint8Array, lost: number) => number | void;

/**
 * The zero-allocation form of `SampleCallback`: the payload is
 * `bytes[offset .. offset + length)`, valid only during the call.
 */
export type RawSampleCallback = (bytes: Uint8Array, offset: number, length: number, lost: number) => number | void;

/** A record the consumer has been waiting at, still BUSY: see `stalls()`. */
export interface Stall {
  ring: RingBuffer;
  /** Its position (a byte counter, as `BPF_RB_CONS_POS`). */
  position: number;
  /** The producer that reserved it (0 if anonymous): `ring.reapProducer(id)` once that producer is gone. */
  producerId: number;
  /** Milliseconds since `stalls()` first saw it at the head. */
  ms: number;
}

/** Poll, wait and close, shared by every consumer. */
export abstract class WaitingConsumer {
  /** @internal */ protected readonly walks: RingWalk[] = [];
  /** @internal */ protected readonly waiter: Waiter;

  /** @internal */
  constructor(options: WaitOptions | undefined) {
    this.waiter = new Waiter(
      { walks: this.walks, consume: () => this.consume(), ready: () => this.ready() },
      napOption(options),
    );
  }

  /** One pass over every ring: the records delivered, or a callback's negative number. */
  abstract consume(): number;

  /** @internal The second look before sleeping: whether a pass could deliver now. */
  protected ready(): boolean {
    return this.walks.some((w) => w.peek());
  }

  /**
   * `ring_buffer__poll()`: consumes what is there; if nothing is, sleeps until
   * a producer's wakeup or `timeoutMs` (-1: without end; 0: do not sleep),
   * then consumes. Resolves to the number of records delivered (0 on
   * timeout, or when `close()` ends the wait), or the negative number a
   * callback returned; rejects with the signal's reason when `signal` aborts.
   * Sleeps in `Atomics.waitAsync`, so it never blocks the thread. After a
   * poll that delivered, the next one first naps for the `napMs` budget (see
   * `WaitOptions`). One poll at a time: a second pending one is refused.
   */
  poll(timeoutMs = -1, options?: PollOptions): Promise<number> {
    try {
      return this.waiter.poll(timeoutMs, pollArgs(timeoutMs, options));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * The blocking form of `poll()` for workers and Node's main thread
   * (`Atomics.wait`, which takes one word: a consumer of one ring only). A
   * browser page's main thread cannot block and is refused with
   * `ERR_RINGBUF_CANNOT_BLOCK`.
   */
  pollSync(timeoutMs = -1): number {
    checkTimeout(timeoutMs);
    checkOneRing(this.walks.length);
    return this.waiter.pollSync(timeoutMs);
  }

  /**
   * `ring_buffer__free()`: makes a pending `poll()` return 0 at once, ends the
   * stand-in workers it waited in, and gives the rings up (another consumer
   * may then read them from where this one stopped). Inside a callback it
   * ends the pass at that record: the ring is given up past it, and no record
   * after it is delivered. Later calls throw `ERR_RINGBUF_CLOSED`. Calling it
   * twice is harmless.
   */
  close(): void {
    this.waiter.close();
    for (const w of this.walks) w.release();
  }

  /** `using consumer = ...` closes it at the end of the block. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/** @internal One ring of a callback consumer. */
export interface Subscription {
  readonly walk: RingWalk;
  /** Its callback in the walk's form: the raw callback, or the view callback called with a view of the payload. */
  readonly visit: RecordVisitor;
  /** The BUSY record stalls() last saw at the head, and since when. */
  busyPos: number;
  busySince: number;
}

/** A consumer that calls one callback per ring: add(), addRaw(), rings, stalls(). */
export abstract class CallbackConsumer extends WaitingConsumer {
  /** @internal */ protected readonly subs: Subscription[] = [];

  /**
   * `ring_buffer__add()`: consume `ring` too, calling `callback` for its
   * records. Throws `ERR_RINGBUF_CONSUMER_TAKEN` when the ring already has a
   * consumer.
   */
  add(ring: RingBuffer, callback: SampleCallback): this {
    checkFunction(callback, 'callback');
    return this.#add(ring, callback, null);
  }

  /** `ring_buffer__add()` with the zero-allocation callback form. */
  addRaw(ring: RingBuffer, callback: RawSampleCallback): this {
    checkFunction(callback, 'callback');
    return this.#add(ring, null, callback);
  }

  #add(ring: RingBuffer, view: SampleCallback | null, raw: RawSampleCallback | null): this {
    this.waiter.check();
    if (!(ring instanceof RingBuffer)) {
      throw new RingBufferTypeError(
        `add() takes a RingBuffer from RingBuffer.create() or .attach(); got ${describeValue(ring)}`,
        'ERR_RINGBUF_TYPE',
      );
    }
    if (this.walks.some((w) => w.ring.memory === ring.memory && w.ring.core.ctl === ring.core.ctl)) {
      throw new RingBufferStateError(
        'this ring is already added to this consumer: a ring has one consumer callback',
        'ERR_RINGBUF_DUPLICATE',
      );
    }
    const walk = new RingWalk(ring);
    const visit: RecordVisitor = raw ?? ((_bytes, offset, length, lost) => view!(walk.view(offset, length), lost));
    this.subs.push({ walk, visit, busyPos: -1, busySince: 0 });
    this.walks.push(walk);
    return this;
  }

  /** The rings of this consumer, in the order they were added (libbpf `ring_buffer__ring()`). */
  get rings(): readonly RingBuffer[] {
    return this.walks.map((w) => w.ring);
  }

  /**
   * Records the consumer is waiting at that are still BUSY (reserved, not yet
   * committed) and have been for at least `minMs` since an earlier call saw
   * them: call it from a timer to find a producer that leaked a reservation
   * or died. Each ring has at most one, at its head. Cheap: one header read
   * per ring; nothing on the hot path.
   */
  stalls(minMs = 0): Stall[] {
    checkNonNegative(minMs, 'minMs');
    const now = performance.now();
    const out: Stall[] = [];
    for (const s of this.subs) {
      const { walk } = s;
      const producerId = walk.busyHead();
      if (producerId < 0) continue;
      if (s.busyPos !== walk.position) {
        s.busyPos = walk.position;
        s.busySince = now;
      }
      if (now - s.busySince >= minMs)
        out.push({ ring: walk.ring, position: walk.position, producerId, ms: now - s.busySince });
    }
    return out;
  }
}

/**
 * The consumer of one or more rings, the twin of libbpf's `struct ring_buffer`
 * (`ring_buffer__new`, `__add`, `__consume`, `__consume_n`, `__poll`,
 * `__free`). A ring has one consumer at a time; use it from one thread.
 */
export class RingBufferConsumer extends CallbackConsumer {
  /**
   * `ring_buffer__new()`: a consumer of `ring`, calling `callback` per record.
   * Both may be left out and given to `add()`. Throws a `RingBufferStateError`
   * (`ERR_RINGBUF_CONSUMER_TAKEN`) when the ring already has a consumer.
   */
  constructor(ring?: RingBuffer, callback?: SampleCallback, options?: WaitOptions) {
    super(options);
    if (ring !== undefined) this.add(ring, callback as SampleCallback);
  }

  /**
   * `ring_buffer__consume()`: hands every committed record of every ring to
   * its callback without waiting. Returns the number of records delivered, or
   * the negative number a callback returned (which stops the loop).
   */
  consume(): number {
    return this.#consume(Infinity);
  }

  /** `ring_buffer__consume_n()`: like `consume()`, but stops after `n` records. */
  consumeN(n: number): number {
    checkCount(n);
    return this.#consume(n);
  }

  #consume(n: number): number {
    this.waiter.check();
    let total = 0;
    for (const s of this.subs) {
      if (total >= n) break;
      const got = processRing(s, n - total);
      if (got < 0) return got;
      total += got;
    }
    return total;
  }
}

/**
 * libbpf's ringbuf_process_ring(): delivers up to `n` committed records of
 * one ring in order and publishes the consumer position at the end of the
 * pass (also when a callback stops or throws: that record counts as consumed).
 */
function processRing(s: Subscription, n: number): number {
  try {
    return s.walk.deliver(n, s.visit);
  } finally {
    s.walk.publish();
  }
}
