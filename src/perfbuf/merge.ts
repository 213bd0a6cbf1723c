// PerfBufferConsumer: the per-producer rings merged back into one order by
// stamp (the watermark argument is in docs/perfbuf.md), or read round-robin.

import { RingWalk, type RecordVisitor } from '../walk.js';
import {
  RingBufferStateError,
  RingBufferTypeError,
  checkBoolean,
  checkCount,
  checkFunction,
  checkPositive,
  describeValue,
} from '../errors.js';
import { roundRobin } from '../fair.js';
import { OFF_DROPPED } from '../layout.js';
import { WaitingConsumer } from '../consumer.js';
import type { WaitOptions } from '../wait.js';
import { PerfBuffer } from './buffer.js';
import { IDLE, PREFIX, SLOT_LOW, SLOT_WORDS, STAMP_STEP, W_COUNTER, W_HELD, W_SLOTS } from './layout.js';

/**
 * Called once per record: `data` is a view of its payload, valid only during
 * the call; `producer` its slot; `stamp` its place in the global order (0, 1,
 * 2, ... across all producers, in reservation order; records discarded by
 * their producer leave gaps), or -1 in a buffer created with `ordered: false`.
 * Return a negative number to stop the loop.
 */
export type PerfSampleCallback = (data: Uint8Array, producer: number, stamp: number) => number | void;
/** The zero-allocation form: the payload is `bytes[offset .. offset + length)`, valid during the call. */
export type PerfRawSampleCallback = (
  bytes: Uint8Array,
  offset: number,
  length: number,
  producer: number,
  stamp: number,
) => number | void;
/**
 * libbpf's `perf_buffer_lost_fn` (`PERF_RECORD_LOST`): `count` records of
 * `producer` were refused for lack of room since its previous record in the
 * stream and before its next one.
 */
export type PerfLostCallback = (producer: number, count: number) => void;

/** Options of `PerfBufferConsumer`. */
export interface PerfBufferConsumerOptions extends WaitOptions {
  /** Per record, with a view of the payload. Give this or `sampleRaw`. */
  sample?: PerfSampleCallback;
  /** Per record, zero-allocation form. */
  sampleRaw?: PerfRawSampleCallback;
  /**
   * Lost records, in stream order (before the producer's next record).
   * Without it, losses are only counted in `lost()`.
   */
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
export class PerfBufferConsumer extends WaitingConsumer {
  readonly #pb: PerfBuffer;
  readonly #sample: PerfSampleCallback | null;
  readonly #raw: PerfRawSampleCallback | null;
  readonly #lostCb: PerfLostCallback | null;
  readonly #ordered: boolean;
  readonly #quantum: number;
  readonly #control: Int32Array;
  /** Per producer: losses reported in all, and reported ahead of the record that carries them. */
  readonly #reported: number[];
  readonly #ahead: number[];
  /** COUNTER as last read, and its extension past 2^32 (a Number, exact below 2^53). */
  #c32 = 0;
  #cExt = 0;
  readonly #turns = { start: 0 };
  /** The round-robin pass's visitor of each slot, and the COUNTER its stamps are taken against. */
  readonly #visits: RecordVisitor[];
  #rrC32 = 0;
  /** Scratch of #merge(): slots with a deliverable head, and each slot's head stamp relative to COUNTER. */
  readonly #ready: Int32Array;
  readonly #rels: Int32Array;

  constructor(pb: PerfBuffer, options: PerfBufferConsumerOptions) {
    if (!(pb instanceof PerfBuffer))
      throw new RingBufferTypeError(
        `PerfBufferConsumer takes a PerfBuffer from PerfBuffer.create(); got ${describeValue(pb)}`,
        'ERR_RINGBUF_TYPE',
      );
    if (options === null || typeof options !== 'object')
      throw new RingBufferTypeError(
        `options must be an object such as { sample }; got ${describeValue(options)}`,
        'ERR_RINGBUF_TYPE',
      );
    super(options);
    const { sample, sampleRaw, lost, ordered = pb.ordered, quantum = 16 } = options;
    if ((sample === undefined) === (sampleRaw === undefined)) {
      throw new RingBufferTypeError(
        'give exactly one of sample (data, producer, stamp) and sampleRaw (bytes, offset, length, producer, stamp)',
        'ERR_RINGBUF_TYPE',
      );
    }
    for (const [name, f] of [
      ['sample', sample],
      ['sampleRaw', sampleRaw],
      ['lost', lost],
    ] as const) {
      if (f !== undefined) checkFunction(f, name);
    }
    checkBoolean(ordered, 'ordered');
    if (ordered && !pb.ordered) {
      throw new RingBufferStateError(
        'this perf buffer was created with ordered: false, so its records carry no stamps; ' +
          'create it with ordered: true',
        'ERR_RINGBUF_UNORDERED',
      );
    }
    checkPositive(quantum, 'quantum', 2 ** 30, 'Use a positive integer such as 16.');
    this.#pb = pb;
    try {
      for (const r of pb.rings) this.walks.push(new RingWalk(r));
    } catch (err) {
      for (const c of this.walks) c.release();
      throw err;
    }
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
    this.#visits = this.walks.map((cur, slot) => (src: Uint8Array, off: number, len: number, lost: number) => {
      const stamp = this.#pb.ordered
        ? (this.#cExt + ((cur.ring.core.i32[off >> 2]! - this.#rrC32) | 0)) / STAMP_STEP
        : -1;
      return this.#hand(slot, src, off, len, lost, stamp);
    });
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
    this.waiter.check();
    return this.#consume(Infinity, true);
  }

  /** Up to `n` records (`ring_buffer__consume_n()`). */
  consumeN(n: number): number {
    checkCount(n);
    this.waiter.check();
    return this.#consume(n, false);
  }

  #consume(n: number, snapshot: boolean): number {
    const r = this.#ordered ? this.#merge(n, snapshot) : this.#roundRobin(n, snapshot);
    if (r >= 0 && r < n && !this.waiter.closed) this.#trailingLosses();
    return r;
  }

  /** @internal The second look: in ordered mode, whether the merge could deliver now. */
  protected override ready(): boolean {
    return this.#ordered ? this.#mergeable() : super.ready();
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
    for (let k = 0, i = W_SLOTS + SLOT_LOW; k < this.walks.length; k++, i += SLOT_WORDS) {
      // pairs with the LOW stores in PerfBufferProducer.reserveRaw() and #commit()
      const low = Atomics.load(c, i);
      if (low === IDLE) continue;
      const rel = (low - c32) | 0;
      if (rel < w) w = rel;
    }
    return w;
  }

  /**
   * Whether the ordered merge could deliver a record now (poll's last look
   * before sleeping, after WAIT is set). HELD is set first and cleared only
   * when no committed record waits behind the watermark: a producer whose LOW
   * goes back to IDLE without a wakeup of its own (a refused reservation, a
   * BPF_RB_NO_WAKEUP commit) wakes the consumer when HELD is set, since the
   * records it held back may have been committed with a wakeup that found the
   * consumer awake (Dekker: our HELD store before the LOW loads, its LOW store
   * before its HELD load; PerfBufferProducer.#idle()) [H1] [H2].
   */
  #mergeable(): boolean {
    Atomics.store(this.#control, W_HELD, 1);
    const c32 = this.#readCounter();
    const w = this.#watermark(c32);
    let held = false;
    for (const cur of this.walks) {
      if (!cur.peek()) continue;
      if (((this.#stampOf(cur) - c32) | 0) < w) return true;
      held = true;
    }
    if (!held) Atomics.store(this.#control, W_HELD, 0);
    return false;
  }

  #stampOf(cur: RingWalk): number {
    return cur.ring.core.i32[cur.head >> 2]!; // prefix word 0
  }

  #merge(n: number, snapshot: boolean): number {
    const walks = this.walks;
    const k = walks.length;
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
          const cur = walks[i]!;
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
          const cur = walks[slot]!;
          if (this.waiter.closed) return total; // close() in a callback: the pass ends at that record
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
      for (const cur of walks) cur.publish();
    }
  }

  #roundRobin(n: number, snapshot: boolean): number {
    this.#rrC32 = this.#pb.ordered ? this.#readCounter() : 0;
    return roundRobin(this.walks, this.#turns, this.#quantum, n, snapshot, this.#visits);
  }

  /** The ordered merge's step: reports the head record's losses, takes it and hands it to the sample callback. */
  #deliver(cur: RingWalk, slot: number, stamp: number): number | void {
    const src = cur.source;
    const off = cur.head;
    const len = cur.headLength;
    return this.#hand(slot, src, off, len, cur.take(), stamp);
  }

  /**
   * Hands one record of `slot` to the sample callback, its losses first to
   * the lost callback. `off` and `len` are the record's; in an ordered
   * buffer they include the stamp prefix, left out here.
   */
  #hand(slot: number, src: Uint8Array, off: number, len: number, lost: number, stamp: number): number | void {
    const prefix = this.#pb.ordered ? PREFIX : 0;
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
    off += prefix;
    len -= prefix;
    return this.#raw !== null
      ? this.#raw(src, off, len, slot, stamp)
      : this.#sample!(this.walks[slot]!.view(off, len), slot, stamp);
  }

  /**
   * Losses after a producer's last record, reported without waiting for its
   * next record (the ring alone reports them only with that record). Only
   * for rings fully consumed whose PRODUCER_POS did not move while DROPPED
   * was read: every refusal counted then came after the last record read and
   * before any later reservation.
   */
  #trailingLosses(): void {
    for (let slot = 0; slot < this.walks.length; slot++) {
      const cur = this.walks[slot]!;
      const { ring } = cur;
      const prod = ring.core.producerPos();
      if (prod !== cur.position || cur.head >= 0) continue;
      const dropped = ring.core.counter(OFF_DROPPED); // the refusals of this slot's one producer
      if (ring.core.producerPos() !== prod) continue;
      const unreported = dropped - this.#reported[slot]!;
      if (unreported <= 0) continue;
      this.#reported[slot]! += unreported;
      this.#ahead[slot]! += unreported;
      this.#lostCb?.(slot, unreported);
    }
  }
}
