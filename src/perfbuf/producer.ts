// The producer of one slot of a per-producer buffer: the ring's producer
// surface without a lock, plus the stamps of an ordered buffer.

import type { CommitFlags, QueryKey } from '../constants.js';
import { checkFlags, checkFunction, checkLength, checkOffset, closedError, RingBufferStateError } from '../errors.js';
import { BPF_RB_FORCE_WAKEUP, BPF_RB_NO_WAKEUP } from '../layout.js';
import { Reservation, Staging, fillAndSubmit, outputSource } from '../reservation.js';
import type { RingBuffer, RingBufferStats } from '../ring-buffer.js';
import {
  FLAG_ORDERED,
  FLOOR_STALE,
  IDLE,
  PREFIX,
  SLOT_LOW,
  SLOT_OWNER,
  SLOT_WORDS,
  STAMP_BOUND,
  STAMP_STEP,
  W_COUNTER,
  W_FLAGS,
  W_HELD,
  W_PRODUCERS,
  W_SLOTS,
} from './layout.js';

/**
 * The producer of one slot of a `PerfBuffer`, in the thread that attached
 * it: the `RingBuffer` producer surface (reserve/submit/discard, output,
 * write, query, the zero-allocation raw path, the same flags), without a
 * lock. Use it from that thread only.
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
  /** @internal The slot ring's `sharedBuffer`. */
  readonly sharedBuffer: ArrayBufferLike;
  /** @internal None: a reservation's `data` is a view of its record (the stamp comes first, src/reservation.ts). */
  readonly staging: Staging;
  /** Whether records carry stamps. */
  readonly ordered: boolean;
  /** @internal */ readonly ring: RingBuffer;
  readonly #control: Int32Array;
  readonly #low: number;
  readonly #owner: number;
  readonly #i32: Int32Array;
  /** The lowest LOW of any producer (or COUNTER) as this producer last read them all. */
  #floor: number;
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
    this.sharedBuffer = ring.sharedBuffer;
    this.staging = new Staging(ring.sharedBuffer, 0);
    this.#i32 = ring.core.i32;
    this.#floor = Atomics.load(control, W_COUNTER);
  }

  /**
   * `bpf_ringbuf_reserve()` / `perf_event_output`'s reservation: the offset
   * in `bytes` of a `len`-byte payload, or 0 when the slot's ring has no room
   * now (counted in its `stats().dropped` and reported to the consumer as
   * lost). Write the payload, then `submitRaw(offset)` or `discardRaw(offset)`.
   */
  reserveRaw(len: number): number {
    checkLength(len, this.maxRecord);
    this.#checkOpen();
    if (!this.ordered) return this.ring.reserveChecked(len);
    const c = this.#control;
    const counter = Atomics.load(c, W_COUNTER);
    // Keep every stamp within the signed window of the merge: refuse one that
    // would land STAMP_BOUND or more past the oldest open reservation.
    const behind = (counter - this.#floor) | 0;
    if (behind >= FLOOR_STALE || behind < 0) {
      this.#floor = this.#lowest(counter);
      if (((counter - this.#floor) | 0) >= STAMP_BOUND) return this.ring.refuse();
    }
    // Publish a lower bound of the stamp about to be taken before taking it:
    // pairs with the LOW loads after the COUNTER load in watermark() (merge.ts).
    if (this.#outstanding++ === 0) Atomics.store(c, this.#low, counter);
    const off = this.ring.reserveChecked(len + PREFIX);
    if (off === 0) {
      if (--this.#outstanding === 0) this.#idle(BPF_RB_NO_WAKEUP); // [B6]–[B8] a refusal sends no wakeup of its own
      return 0;
    }
    // the stamp, after the reservation: refused records take none
    const i = off >> 2;
    this.#i32[i] = Atomics.add(c, W_COUNTER, STAMP_STEP);
    this.#i32[i + 1] = this.slot;
    return off + PREFIX;
  }

  #checkOpen(): void {
    if (this.#closed) throw closedError('producer', 'attach again with PerfBuffer.attach(handle, slot)');
  }

  /** The lowest LOW of any busy producer, relative to `counter` (or `counter` when all are idle). */
  #lowest(counter: number): number {
    const c = this.#control;
    let floor = counter;
    for (let k = 0, i = W_SLOTS + SLOT_LOW; k < c[W_PRODUCERS]!; k++, i += SLOT_WORDS) {
      const low = Atomics.load(c, i);
      if (low !== IDLE && ((low - floor) | 0) < 0) floor = low;
    }
    return floor;
  }

  /** `bpf_ringbuf_submit()` for an offset from `reserveRaw()`. */
  submitRaw(offset: number, flags: CommitFlags | number = 0): void {
    checkOffset(offset);
    checkFlags(flags);
    this.#commit(offset, flags, 0, true);
  }

  /** `bpf_ringbuf_discard()` for an offset from `reserveRaw()`. */
  discardRaw(offset: number, flags: CommitFlags | number = 0): void {
    checkOffset(offset);
    checkFlags(flags);
    this.#commit(offset, flags, 1, true);
  }

  /** @internal For a Reservation of this producer (flags checked, committed once). */
  commitReserved(offset: number, flags: number, discard: number): void {
    this.#commit(offset, flags, discard, false);
  }

  #commit(offset: number, flags: number, discard: number, raw: boolean): void {
    const ring = this.ring;
    if (!this.ordered) {
      if (raw) ring.checkPending(offset);
      ring.commitReserved(offset, flags, discard);
      return;
    }
    if (raw) ring.checkPending(offset - PREFIX); // throws, changing nothing, on a bad offset
    // the ring's own wakeup is skipped: the consumer may not emit this record before LOW is IDLE
    ring.commitReserved(offset - PREFIX, BPF_RB_NO_WAKEUP, discard);
    if (--this.#outstanding === 0) this.#idle(flags);
    else this.#wake(flags);
  }

  /**
   * LOW = IDLE once nothing is outstanding [B6], then the wakeup. Records of
   * other producers may have waited behind this LOW, their own wakeups spent
   * on a consumer that found them held back: when the consumer sleeps with
   * such records (HELD), this store is what lets them go, so it wakes the
   * consumer whatever `flags` say (pairs with the HELD store before the LOW
   * loads in PerfBufferConsumer.#mergeable()).
   */
  #idle(flags: number): void {
    Atomics.store(this.#control, this.#low, IDLE);
    if (
      (flags & BPF_RB_NO_WAKEUP) !== 0 &&
      (flags & BPF_RB_FORCE_WAKEUP) === 0 &&
      Atomics.load(this.#control, W_HELD) !== 0
    ) {
      flags = 0;
    }
    this.#wake(flags);
  }

  /**
   * The wakeup rule after the ring's own commit (which sent none): a
   * consumer asleep on this ring is woken, after the IDLE store (pairs with
   * its WAIT store before its last look, #arm() in src/wait.ts).
   */
  #wake(flags: number): void {
    if ((flags & BPF_RB_NO_WAKEUP) === 0 || (flags & BPF_RB_FORCE_WAKEUP) !== 0) {
      const { core } = this.ring;
      if (core.waitState() !== 0) core.wake(flags & BPF_RB_FORCE_WAKEUP ? 1 : 0);
    }
  }

  /** `bpf_ringbuf_reserve()`: a `PerfReservation` whose `data` is exactly `len` bytes, or null when full. */
  reserve(len: number): PerfReservation | null {
    const off = this.reserveRaw(len);
    return off === 0 ? null : new PerfReservation(this, off, len);
  }

  /** `bpf_ringbuf_output()` (`bpf_perf_event_output()`): copies `bytes` in and submits; false when full. */
  output(bytes: ArrayBufferView, flags: CommitFlags | number = 0): boolean {
    if (!this.ordered) {
      // the ring's output(): one wasm call per record (outputAt() in assembly/ring.ts)
      this.#checkOpen();
      return this.ring.output(bytes, flags);
    }
    const src = outputSource(bytes, flags, this.maxRecord);
    const off = this.reserveRaw(src.length);
    if (off === 0) return false;
    this.bytes.set(src, off);
    this.#commit(off, flags, 0, false);
    return true;
  }

  /** As `RingBuffer.write()`: reserve, `fill(data)`, submit; discard and rethrow if `fill` throws. */
  write(len: number, fill: (data: Uint8Array) => void, flags: CommitFlags | number = 0): boolean {
    checkLength(len, this.maxRecord);
    checkFunction(fill, 'fill');
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
   * Gives the slot (and the ring's producer id) up so that another thread
   * may attach to it. Records still reserved must be committed first.
   */
  close(): void {
    if (this.#closed) return;
    if (this.#outstanding !== 0) {
      throw new RingBufferStateError(
        `${this.#outstanding} record(s) are still reserved: submit or discard them before close()`,
        'ERR_RINGBUF_PENDING',
      );
    }
    this.#closed = true;
    this.ring.close();
    Atomics.store(this.#control, this.#owner, 0);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** A record reserved by `PerfBufferProducer.reserve()`: as `Reservation`, fill `data`, then submit or discard once. */
export class PerfReservation extends Reservation {}
