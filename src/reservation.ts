// A reserved record, and the bodies that write() and output() share between
// rings and the producers of per-producer buffers.

import type { CommitFlags } from './constants.js';
import { RingBufferStateError, checkFlags, checkLength, viewBytes } from './errors.js';
import { STAGE_BYTES } from './layout.js';

/**
 * @internal
 * One producer's staging bytes in the ring's memory (src/layout.ts): a
 * reservation's `data` for a small record is a view of them, made once per
 * length and reused, and the commit copies them into the record in the same
 * wasm call. A view of shared memory costs more to make than the copy (V8
 * 15–20 ns, JavaScriptCore 40–70), and one per record held the README's
 * producer pattern to 0.73× of `output()` (bench/, throughput). One
 * reservation at a time has them; one made while they are taken, a large
 * record, or a producer without staging bytes gets a view of the record.
 */
export class Staging {
  /** Where the bytes are in the memory (0: none). */
  readonly at: number;
  readonly #buffer: ArrayBufferLike;
  readonly #views: Uint8Array[] = [];
  #taken = false;

  constructor(buffer: ArrayBufferLike, at: number) {
    this.#buffer = buffer;
    this.at = at;
  }

  /** A view of exactly `len` staging bytes, or null when they are taken or too few. */
  take(len: number): Uint8Array | null {
    if (this.#taken || this.at === 0 || len > STAGE_BYTES) return null;
    this.#taken = true;
    return (this.#views[len] ??= new Uint8Array(this.#buffer, this.at, len));
  }

  release(): void {
    this.#taken = false;
  }

  /** Whether a pending reservation holds them. */
  get taken(): boolean {
    return this.#taken;
  }
}

/** @internal What a reservation commits through: a ring, or a producer of a per-producer buffer. */
export interface ReservationOwner {
  readonly bytes: Uint8Array;
  /** `bytes.buffer`, read once: on shared memory, reading it costs about as much as making the view. */
  readonly sharedBuffer: ArrayBufferLike;
  readonly staging: Staging;
  /** Commits a record this owner reserved (flags already checked), its payload first copied from `from` if not 0. */
  commitReserved(offset: number, flags: number, discard: number, from?: number): void;
}

/**
 * A record reserved by `reserve()`: fill `data`, then `submit()` or
 * `discard()` it, once (the kernel's `bpf_ringbuf_submit()` /
 * `bpf_ringbuf_discard()`). Until then the consumer waits at this record.
 */
export class Reservation {
  /** Offset of the payload in the ring's `bytes`. */
  readonly offset: number;
  readonly #len: number;
  readonly #owner: ReservationOwner;
  #done = false;
  #data: Uint8Array | null = null;
  /** `#data` is the owner's staging bytes, copied into the ring at submit(). */
  #staged = false;

  /** @internal */
  constructor(owner: ReservationOwner, offset: number, len: number) {
    this.#owner = owner;
    this.offset = offset;
    this.#len = len;
  }

  /**
   * Exactly the reserved bytes. `data.set()` past the end throws a
   * RangeError, and an index past the end is ignored, as for any typed array:
   * no write through this view reaches a neighbour. Fill the record through
   * `data` or at `offset` in the ring's `bytes`, not both: a small record's
   * `data` may be staging bytes, copied in by `submit()`. Do not use it after
   * the commit: the bytes then belong to the consumer, or to a later record.
   */
  get data(): Uint8Array {
    if (this.#data === null) {
      const owner = this.#owner;
      this.#data = this.#done ? null : owner.staging.take(this.#len);
      this.#staged = this.#data !== null;
      this.#data ??= new Uint8Array(owner.sharedBuffer, this.offset, this.#len);
    }
    return this.#data;
  }

  /** Whether submit() or discard() has run. */
  get committed(): boolean {
    return this.#done;
  }

  /** `bpf_ringbuf_submit()`: hands the record to the consumer; `flags` as in the kernel. */
  submit(flags: CommitFlags | number = 0): void {
    const owner = this.#take(flags);
    owner.commitReserved(this.offset, flags, 0, this.#staged ? owner.staging.at : 0);
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
    if (!this.#done) this.discard(0);
  }

  #take(flags: number): ReservationOwner {
    checkFlags(flags);
    if (this.#done) {
      throw new RingBufferStateError(
        'this reservation was already submitted or discarded: commit a reservation once',
        'ERR_RINGBUF_COMMITTED',
      );
    }
    this.#done = true;
    if (this.#staged) this.#owner.staging.release();
    return this.#owner;
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
