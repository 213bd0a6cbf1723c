// The consumer's walk over one ring: the only code that reads records. It is
// libbpf's ringbuf_process_ring() split in three, so that every consumer is
// built on it: peek() finds the next committed record (skipping discarded
// ones and counting losses) [D1]–[D3], take() consumes it, publish() stores
// the consumer position [D4]. RingBufferConsumer, FairConsumer and the
// per-producer merge (src/perfbuf/merge.ts) all read rings through a RingWalk.
//
// A walk is the ring's one consumer: it holds the CONSUMER word of the
// control block from its creation to release() [T3] [T4]. Its position moves only
// past records it has handed to a visitor: a record found by peek() and never
// taken stays in the ring for the next consumer, and release() publishes the
// position first, then leaves the losses it had counted but not reported
// (CONSUMER_CARRY) for that consumer's first record [T1] [T2].
//
// Overwrite mode is the one deliberate variant (#peekOverwrite): producers
// move CONSUMER_POS past unread records there, so each record is copied out
// and then claimed by a compare-and-swap, and a move is reported as a gap.

import { RingBufferCorruptError, RingBufferStateError, RingBufferTypeError, describeValue } from './errors.js';
import { DISCARD_BIT, DROPS_MASK, ID_SHIFT, LEN_MASK, LOSS_ID, LOSS_LEN } from './layout.js';
import { RingBuffer } from './ring-buffer.js';
import type { RingCore, WaitWord } from './wasm.js';

/** A pass publishes its position each time it has read this fraction of a ring (1/16) since the last. */
const PUBLISH_FRACTION = 16;
/**
 * Within a pass, producers that wait for room are woken each time this
 * fraction of a ring (1/4) has been freed since they last were: each wakeup
 * costs the consumer a notify, and a producer woken for a sixteenth of a
 * ring fills it at once and waits again. A pass always ends by waking them.
 */
const ROOM_FRACTION = 4;
/**
 * Spins the consumer gives an overwriting producer between its move and its
 * last store (a few stores) before it ends the pass and sleeps until that
 * producer's wake(); the model waits there (see #moved()).
 */
const MOVE_SPINS = 1000;

/**
 * @internal What deliver() calls per record: the payload is
 * `bytes[offset .. offset + length)`, valid during the call.
 */
export type RecordVisitor = (bytes: Uint8Array, offset: number, length: number, lost: number) => number | void;

/** @internal One ring as its consumer reads it. */
export class RingWalk {
  readonly #ring: RingBuffer;
  readonly #core: RingCore;
  readonly #i32: Int32Array;
  readonly #data: number;
  readonly #mask: number;
  /** Where the head record's payload is: the ring's memory, or overwrite mode's copy; `#src.buffer`, read once. */
  readonly #src: Uint8Array;
  readonly #srcBuffer: ArrayBufferLike;
  readonly #copy: Uint8Array | null;
  /** Bytes read past the published position after which a pass publishes before it reads on. */
  readonly #publishEvery: number;
  /** Bytes freed since the last look at the producers waiting for room after which a publish within a pass looks. */
  readonly #roomEvery: number;
  readonly #token: number;
  /**
   * The f64 words of the control block that the consumer owns:
   * CONSUMER_OVERWRITTEN [0], CONSUMER_CARRY [1], CONSUMER_LAST [2] (RingCore.consumerWords).
   */
  readonly #own: Float64Array;
  /** Next position to read; what CONSUMER_POS holds; PRODUCER_POS as last read. */
  #cons: number;
  #published: number;
  #prod: number;
  /** DROPPED snapshot (20 bits) of the last record the position moved past. */
  #drops: number;
  /** Losses not yet reported, carried by the head record. */
  #lost = 0;
  /** The head record found by peek(): its payload's offset in `#src` (-1: none), length, end and word 1. */
  #off = -1;
  #len = 0;
  #next = 0;
  #headW1 = 0;
  /** The position published when the consumer last looked at the producers waiting for room. */
  #roomAt: number;
  /** The position at the end of the previous pass, for the consumer's fill-rate estimate (src/wait.ts). */
  #mark: number;
  /** OVERWRITTEN as last accounted for (overwrite mode). */
  #overwritten = 0;
  /** The contradiction found, thrown again by every later call until the consumer is closed. */
  #error: RingBufferCorruptError | null = null;
  /** release() was called (the consumer closed): deliver and publish nothing more. */
  #released = false;

  constructor(ring: RingBuffer) {
    if (!(ring instanceof RingBuffer)) {
      throw new RingBufferTypeError(
        `expected a RingBuffer from RingBuffer.create() or .attach(); got ${describeValue(ring)}`,
        'ERR_RINGBUF_TYPE',
      );
    }
    const core = ring.core;
    this.#ring = ring;
    this.#core = core;
    this.#i32 = core.i32;
    this.#data = core.data;
    this.#mask = ring.size - 1;
    this.#publishEvery = ring.size / PUBLISH_FRACTION;
    this.#roomEvery = ring.size / ROOM_FRACTION;
    this.#token = (Math.random() * 0x7ffffffe + 1) | 0;
    if (!core.takeConsumer(this.#token)) {
      throw new RingBufferStateError(
        'this ring already has a consumer: a ring has one consumer at a time. close() the other consumer first, ' +
          'or, if the thread it ran on is gone, call ring.reapConsumer() and then add the ring here.',
        'ERR_RINGBUF_CONSUMER_TAKEN',
      );
    }
    this.#cons = this.#published = this.#prod = this.#mark = this.#roomAt = core.consumerPos();
    this.#drops = core.consumerDrops();
    this.#copy = core.overwrite ? new Uint8Array(ring.maxRecord) : null;
    this.#src = this.#copy ?? core.bytes;
    this.#srcBuffer = this.#copy?.buffer ?? core.buffer;
    // what the previous consumer had counted and not reported comes first (read
    // after the token's compare-and-swap, which orders it after that store)
    this.#own = core.consumerWords;
    this.#lost = this.#own[1]!;
    this.#own[1] = 0;
    if (core.overwrite) {
      // Start where the last consumer stopped, with what it had accounted:
      // every move of CONSUMER_POS past that is then seen as one [D8]–[D11], and
      // its records are lost before this consumer's first record.
      this.#cons = this.#published = this.#prod = this.#mark = this.#own[2]!;
      this.#overwritten = this.#own[0]!;
    }
  }

  get ring(): RingBuffer {
    return this.#ring;
  }

  /** The next position to read (a byte counter, as `BPF_RB_CONS_POS`). */
  get position(): number {
    return this.#cons;
  }

  /** The head record found by peek(): its payload's offset in `source` and its length. */
  get head(): number {
    return this.#off;
  }

  get headLength(): number {
    return this.#len;
  }

  /** The bytes `head` is an offset in. */
  get source(): Uint8Array {
    return this.#src;
  }

  /**
   * Finds the next committed record and leaves it at the head; false when
   * the ring is empty, its next record is still BUSY, or the ring was given up.
   * Discarded records are skipped, their losses carried on. Reads
   * PRODUCER_POS only when the cached copy is used up, as libbpf does once
   * per pass.
   */
  peek(): boolean {
    if (this.#released) return false;
    if (this.#off >= 0) return true;
    if (this.#error !== null) throw this.#error;
    return this.#copy === null ? this.#find() : this.#peekOverwrite(this.#copy);
  }

  /** Consumes the head record found by peek(); returns the losses reported with it. */
  take(): number {
    if (this.#copy === null) this.#count(this.#headW1);
    const lost = this.#lost;
    this.#lost = 0;
    this.#cons = this.#next;
    this.#off = -1;
    return lost;
  }

  /**
   * Delivers up to `n` committed records to `visit`, in order, and returns
   * how many, or the negative number `visit` returned. A record counts as
   * consumed before `visit` sees it, so one whose callback throws is not
   * delivered again. A callback may consume from this ring itself: each
   * record is found from where the walk is then. The position is not
   * published at the end: the caller does that (publish()), once per pass, as
   * libbpf does. Records at or past position `limit` are left for a later
   * call.
   */
  deliver(n: number, visit: RecordVisitor, limit = Infinity): number {
    let count = 0;
    while (count < n && this.#cons < limit && this.peek()) {
      const off = this.#off;
      const len = this.#len;
      count++;
      const r = visit(this.#src, off, len, this.take());
      if (typeof r === 'number' && r < 0) return r;
    }
    return count;
  }

  /**
   * peek() outside overwrite mode: from the consumer position to
   * PRODUCER_POS, stopping at a BUSY record [D2], skipping discarded ones
   * and counting losses; the head stays in the ring until it is taken.
   */
  #find(): boolean {
    const i32 = this.#i32;
    const mask = this.#mask;
    const maxRecord = this.#ring.maxRecord;
    for (;;) {
      const cons = this.#cons;
      let prod = this.#prod;
      if (cons >= prod) {
        // A pass lasts as long as producers keep up with it: give them the
        // room read so far before looking for more, as libbpf stores the
        // position as it goes, or they would find the ring full meanwhile.
        if (cons - this.#published >= this.#publishEvery) this.publish(false);
        // acquire: pairs with the PRODUCER_POS store in reserveLocked() (assembly/ring.ts)
        prod = this.#core.producerPos();
        if (prod <= cons) {
          if (prod < cons) throw this.#corrupt(cons, `the producer position ${prod} is behind the consumer`);
          return false;
        }
        if (prod - cons > mask + 1)
          throw this.#corrupt(cons, `the producer position ${prod} is more than a ring ahead`);
        this.#prod = prod;
      }
      const at = this.#data + (cons & mask);
      // acquire: pairs with the header xchg in commit() (assembly/ring.ts)
      const hdr = Atomics.load(i32, at >> 2);
      if (hdr < 0) {
        // BUSY: wait for its producer. BUSY with DISCARD is never written.
        if ((hdr & DISCARD_BIT) !== 0) throw this.#corrupt(cons, `header ${hex(hdr)} has both BUSY and DISCARD set`);
        return false;
      }
      const len = hdr & LEN_MASK;
      const next = cons + ((len + 15) & ~7);
      if (len > maxRecord)
        throw this.#corrupt(cons, `header ${hex(hdr)}: length ${len} exceeds the largest record (${maxRecord})`);
      if (next > prod)
        throw this.#corrupt(cons, `header ${hex(hdr)}: its record runs past the producer position ${prod}`);
      const w1 = i32[(at >> 2) + 1]!;
      if ((hdr & DISCARD_BIT) === 0) {
        this.#headW1 = w1;
        this.#off = at + 8;
        this.#len = len;
        this.#next = next;
        return true;
      }
      this.#count(w1);
      if (w1 >>> ID_SHIFT === LOSS_ID && len === LOSS_LEN) this.#lost += lossRecord(i32, at);
      this.#cons = next;
    }
  }

  /**
   * peek() in overwrite mode. Each record is copied out, then claimed by a
   * compare-and-swap of CONSUMER_POS; a producer passes records with the
   * same compare-and-swap (overwriteOldest() in assembly/ring.ts), so a
   * record is delivered intact or counted as overwritten, never both. The
   * position is therefore published record by record.
   */
  #peekOverwrite(copy: Uint8Array): boolean {
    const i32 = this.#i32;
    const core = this.#core;
    const { bytes, maxRecord } = core;
    for (;;) {
      const cons = this.#cons;
      const prod = core.producerPos();
      if (prod <= cons) {
        if (prod < cons) throw this.#corrupt(cons, `the producer position ${prod} is behind the consumer`);
        return false;
      }
      const at = this.#data + (cons & this.#mask);
      const hdr = Atomics.load(i32, at >> 2);
      const len = hdr & LEN_MASK;
      const next = cons + ((len + 15) & ~7);
      let moved = 0;
      if (hdr < 0) {
        moved = this.#moved(cons);
        if (moved <= 0) return false; // BUSY: wait for its producer, or for a move to be done
        continue;
      }
      if (len > maxRecord || next > prod) {
        moved = this.#moved(cons); // overwritten while we read it?
        if (moved === 0) {
          throw this.#corrupt(
            cons,
            len > maxRecord
              ? `header ${hex(hdr)}: length ${len} exceeds the largest record (${maxRecord})`
              : `header ${hex(hdr)}: its record runs past the producer position ${prod}`,
          );
        }
        if (moved < 0) return false;
        continue;
      }
      const w1 = i32[(at >> 2) + 1]!;
      const keep = (hdr & DISCARD_BIT) === 0;
      const loss = !keep && w1 >>> ID_SHIFT === LOSS_ID && len === LOSS_LEN ? lossRecord(i32, at) : 0;
      if (keep) copy.set(bytes.subarray(at + 8, at + 8 + len));
      // [D7] pairs with the compare-and-swap in overwriteOldest() (assembly/ring.ts)
      if (!core.advance(cons, next, w1 & DROPS_MASK, true)) {
        moved = this.#moved(cons);
        if (moved === 0) throw this.#changed(cons);
        if (moved < 0) return false;
        continue;
      }
      this.#count(w1);
      this.#lost += loss;
      this.#cons = this.#published = next;
      if (!keep) continue;
      this.#off = 0;
      this.#len = len;
      this.#next = next;
      return true;
    }
  }

  /**
   * Overwrite mode: whether a producer moved CONSUMER_POS past `cons` (1),
   * did not (0), or is moving it (-1). If it moved, the walk resumes there,
   * and the records passed are counted as lost right there, before the first
   * record after the gap [D8]–[D11]. OVERWRITE_POS is the mover's last store, after
   * OVERWRITTEN: once it has reached the position found, OVERWRITTEN
   * includes that move, and reading CONSUMER_POS again makes sure it
   * includes no later one. Before that the move is in progress: the walk
   * stops there as at a BUSY record, and the consumer sleeps until the
   * mover's wake() after its OVERWRITE_POS store (pairs with the WAIT store
   * before the last look, src/wait.ts).
   */
  #moved(cons: number): number {
    const core = this.#core;
    for (let spins = 0; ; spins++) {
      const to = core.consumerPos();
      if (to <= cons) return 0;
      if (core.overwritePos() < to) {
        if (spins < MOVE_SPINS) continue;
        return -1;
      }
      const total = core.overwritten();
      if (core.consumerPos() !== to) continue;
      this.#lost += total - this.#overwritten;
      this.#overwritten = this.#own[0] = total;
      this.#cons = this.#published = to;
      return 1;
    }
  }

  /** Adds the refusals between the previous record and this one (word 1's DROPPED snapshots). */
  #count(w1: number): void {
    const drops = w1 & DROPS_MASK;
    this.#lost += (drops - this.#drops) & DROPS_MASK;
    this.#drops = drops;
  }

  /**
   * A view of `source[offset .. offset + length)`, for the callbacks that
   * take one. Made on the buffer read once: `subarray()` costs about twice as
   * much on shared memory.
   */
  view(offset: number, length: number): Uint8Array {
    return new Uint8Array(this.#srcBuffer, offset, length);
  }

  /**
   * Stores the consumer position [D4] (release: pairs with the CONSUMER_POS
   * loads in reserve() and commit()), with a compare-and-swap from the value
   * last stored, so that a position written by someone else is found; then
   * wakes the producers waiting for room, if any [X1..X3]. `room` false (a
   * publish within a pass) wakes them only once ROOM_FRACTION of the ring
   * has been freed since they last were; the next publish with `room` pays
   * what is owed.
   */
  publish(room = true): void {
    if (this.#copy !== null || this.#released) return;
    const from = this.#published;
    const to = this.#cons;
    const look = room ? this.#roomAt !== to : to - this.#roomAt >= this.#roomEvery;
    if (to === from && !look) return;
    this.#published = to;
    if (look) this.#roomAt = to;
    if (!this.#core.advance(from, to, this.#drops, look)) throw this.#changed(from);
  }

  /** Whether the position read is the one published (the adaptive wakeup rule compares against CONSUMER_POS). */
  get settled(): boolean {
    return this.#cons === this.#published;
  }

  /** The fraction of the ring consumed since the last call (the consumer's fill-rate estimate, src/wait.ts). */
  consumedSinceMark(): number {
    const fill = (this.#cons - this.#mark) / this.#ring.size;
    this.#mark = this.#cons;
    return fill;
  }

  /** Sets the ring's WAIT word [A1] [S2] (the consumer alone sets it other than to AWAKE). */
  setWait(state: number): void {
    this.#core.setWait(state);
  }

  /** The ring's WAIT word, to wait on. */
  get waitWord(): WaitWord {
    return this.#core.waitWord;
  }

  /** The producer id of the BUSY record at the consumer position, or -1 when the head is not BUSY. */
  busyHead(): number {
    if (!(this.#cons < this.#core.producerPos()) || this.#core.header(this.#cons) >= 0) return -1;
    return this.#i32[((this.#data + (this.#cons & this.#mask)) >> 2) + 1]! >>> ID_SHIFT;
  }

  /**
   * Gives the ring up, so that another consumer may read it from where this
   * one stopped: publishes the position, leaves the losses counted and not
   * yet reported in CONSUMER_CARRY for that consumer's first record (in
   * overwrite mode, also a record claimed from the ring and never handed
   * out), and only then frees the CONSUMER token [T1] [T2].
   */
  release(): void {
    if (this.#released) return;
    try {
      if (this.#error === null) this.publish();
    } catch {
      // a position changed outside this consumer: the calls that read report it, and this one is closing
    } finally {
      this.#released = true;
      const claimed = this.#copy !== null && this.#off >= 0 ? 1 : 0;
      this.#own[1] = this.#own[1]! + this.#lost + claimed;
      if (this.#copy !== null) this.#own[2] = this.#cons;
      this.#lost = 0;
      this.#off = -1;
      // release: pairs with the compare-and-swap that takes the token in the next consumer's constructor
      this.#core.releaseConsumer(this.#token);
    }
  }

  #changed(pos: number): RingBufferCorruptError {
    return this.#corrupt(pos, `the consumer position was changed to ${this.#core.consumerPos()} outside this consumer`);
  }

  #corrupt(pos: number, what: string): RingBufferCorruptError {
    this.#error = new RingBufferCorruptError(
      `ring corrupted at position ${pos}: ${what}. The shared memory was written outside the ring API; the consumer ` +
        'stopped before reading past it, and stops here on every call: close() it once the cause is dealt with.',
      pos,
    );
    return this.#error;
  }
}

function hex(hdr: number): string {
  return `0x${(hdr >>> 0).toString(16)}`;
}

/** The refusals a loss record carries beyond its word 1 (a u64 payload). */
function lossRecord(i32: Int32Array, at: number): number {
  const i = (at >> 2) + 2;
  return (i32[i]! >>> 0) + (i32[i + 1]! >>> 0) * 2 ** 32;
}
