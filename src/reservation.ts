// A reserved record, and the bodies that write() and output() share between
// rings and the producers of per-producer buffers.

import type { CommitFlags } from './constants.js';
import { RingBufferStateError, checkFlags, checkLength, viewBytes } from './errors.js';

/** @internal What a reservation commits through: a ring, or a producer of a per-producer buffer. */
export interface ReservationOwner {
  readonly bytes: Uint8Array;
  /** `bytes.buffer`, read once: on shared memory, reading it costs about as much as making the view. */
  readonly sharedBuffer: ArrayBufferLike;
  /** Commits a record this owner reserved (flags already checked). */
  commitReserved(offset: number, flags: number, discard: number): void;
}

/**
 * A record reserved by `reserve()`: fill `data`, then `submit()` or
 * `discard()` it, once (the kernel's `bpf_ringbuf_submit()` /
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
  /** Offset of the payload in the ring's `bytes`. */
  readonly offset: number;
  #owner: ReservationOwner | null;

  /** @internal */
  constructor(owner: ReservationOwner, offset: number, len: number) {
    this.#owner = owner;
    this.offset = offset;
    this.data = new Uint8Array(owner.sharedBuffer, offset, len);
  }

  /** Whether submit() or discard() has run. */
  get committed(): boolean {
    return this.#owner === null;
  }

  /** `bpf_ringbuf_submit()`: hands the record to the consumer; `flags` as in the kernel. */
  submit(flags: CommitFlags | number = 0): void {
    this.#take(flags).commitReserved(this.offset, flags, 0);
  }

  /** `bpf_ringbuf_discard()`: the consumer skips the record; `flags` as in the kernel. */
  discard(flags: CommitFlags | number = 0): void {
    this.#take(flags).commitReserved(this.offset, flags, 1);
  }

  /**
   * Discards the record if it was neither submitted nor discarded, so that a
   * `using r = rb.reserve(n)` declaration never leaves a reservation behind
   * when the block throws.
   */
  [Symbol.dispose](): void {
    // adaptive: a consumer asleep at this very record must learn it is gone
    if (this.#owner !== null) this.discard(0);
  }

  #take(flags: number): ReservationOwner {
    checkFlags(flags);
    const owner = this.#owner;
    if (owner === null) {
      throw new RingBufferStateError(
        'this reservation was already submitted or discarded: commit a reservation once',
        'ERR_RINGBUF_COMMITTED',
      );
    }
    this.#owner = null;
    return owner;
  }
}

/**
 * @internal
 * Checks the arguments of `output()` (or of `call`) and returns the bytes to
 * copy, as a Uint8Array (a new view only when `bytes` is another kind of
 * view). A view whose buffer was transferred away is refused: it would read
 * as an empty record.
 */
export function outputSource(bytes: unknown, flags: unknown, maxRecord: number, call = 'output()'): Uint8Array {
  if (bytes instanceof Uint8Array && bytes.length !== 0) {
    checkFlags(flags);
    // length, not byteLength: the same number for bytes, and reading byteLength cost ~10 ns a call on Node 20
    // (bench/micro.ts, output)
    checkLength(bytes.length, maxRecord);
    return bytes;
  }
  const src = viewBytes(bytes, call);
  checkFlags(flags);
  checkLength(src.length, maxRecord);
  return src;
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
