// The consumer's walk over one ring: the only code that reads records. It is
// libbpf's ringbuf_process_ring() split in three, so that every consumer is
// built on it: peek() finds the next committed record (skipping discarded
// ones and counting losses), take() consumes it, publish() stores the
// consumer position. RingBufferConsumer, FairConsumer and the per-producer
// merge (src/perfbuf/merge.ts) all walk rings through a RingCursor.
//
// A cursor is the ring's one consumer: it holds the CONSUMER word of the
// control block from its creation to release(). Its position moves only past
// records it has handed to a visitor (take(), or the walk's visit): a record
// found by peek() and never taken stays in the ring for the next consumer,
// and release() publishes the position first, then leaves the losses it had
// counted but not reported (CONSUMER_CARRY) for that consumer's first record.
//
// Overwrite mode is the one deliberate variant (#peekOverwrite): producers
// move CONSUMER_POS past unread records there, so each record is copied out
// and then claimed by a compare-and-swap, and a move is reported as a gap.

import { BPF_RB_CONS_POS, BPF_RB_OVERWRITE_POS } from './constants.js';
import { RingBufferCorruptError, RingBufferStateError, RingBufferTypeError, describeValue } from './errors.js';
import {
  DISCARD_BIT, DROPS_MASK, ID_SHIFT, LEN_MASK, LOSS_ID, LOSS_LEN, OFF_CONSUMER, OFF_CONSUMER_CARRY, OFF_CONSUMER_DROPS,
  OFF_CONSUMER_OVERWRITTEN, OFF_OVERWRITTEN, OFF_WAIT,
} from './layout.js';
import { RingBuffer } from './ring-buffer.js';

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
 * producer's wake() (the model waits: see #moved()).
 */
const MOVE_SPINS = 1000;

function consumerToken(): number {
  return (Math.random() * 0x7ffffffe + 1) | 0;
}

/** @internal What deliver() calls per record: the payload is `bytes[offset .. offset + length)`, valid during the call. */
export type RecordVisitor = (bytes: Uint8Array, offset: number, length: number, lost: number) => number | void;

/** @internal One ring as its consumer reads it. */
export class RingCursor {
  readonly ring: RingBuffer;
  /** Index of the ring's WAIT word in ring.i32. */
  readonly waitIndex: number;
  /** Where the head record's payload is: the ring's memory, or overwrite mode's copy. */
  readonly src: Uint8Array;
  /** `src.buffer`, read once: view() makes views on it. */
  readonly #srcBuffer: ArrayBufferLike;
  /** Next position to read; `published` is what CONSUMER_POS holds. */
  cons: number;
  published: number;
  /** PRODUCER_POS as last read. */
  prod: number;
  /** DROPPED snapshot (20 bits) of the last record the position moved past. */
  drops: number;
  /** Losses not yet reported, carried by the head record. */
  lost = 0;
  /** Offset of the head record's payload in `src` (-1: none found yet), its length and the position after it. */
  off = -1;
  len = 0;
  next = 0;
  /** The position at the end of the previous pass, for the consumer's fill-rate estimate (src/wait.ts). */
  mark: number;
  readonly #i32: Int32Array;
  readonly #data: number;
  readonly #mask: number;
  /** Bytes read past the published position after which a pass publishes before it reads on. */
  readonly #publishEvery: number;
  /** Bytes freed since the last look at the producers waiting for room after which a publish within a pass looks. */
  readonly #roomEvery: number;
  /** The position published when the consumer last looked at the producers waiting for room. */
  #roomAt: number;
  readonly #token: number;
  readonly #copy: Uint8Array | null;
  /** OVERWRITTEN as last accounted for (overwrite mode), and its copy in the control block. */
  #overwritten = 0;
  #reported: Float64Array | null = null;
  /** The contradiction found, thrown again by every later call until the consumer is closed. */
  #error: RingBufferCorruptError | null = null;
  /** Word 1 of the head record found by peek(): its losses are counted when it is taken. */
  #headW1 = 0;
  /** close() was called: deliver nothing more; release() gives the ring up. */
  #stopped = false;
  #released = false;
  /** The control block's CONSUMER_CARRY (an f64). */
  readonly #carry: Float64Array;

  constructor(ring: RingBuffer) {
    if (!(ring instanceof RingBuffer)) {
      throw new RingBufferTypeError(`expected a RingBuffer from RingBuffer.create() or .attach(); got ${describeValue(ring)}`, 'ERR_RINGBUF_TYPE');
    }
    this.ring = ring;
    this.#i32 = ring.i32;
    this.#data = ring.data;
    this.#mask = ring.size - 1;
    this.#publishEvery = ring.size / PUBLISH_FRACTION;
    this.#roomEvery = ring.size / ROOM_FRACTION;
    this.waitIndex = (ring.ctl + OFF_WAIT) >> 2;
    this.#token = consumerToken();
    const held = Atomics.compareExchange(ring.i32, (ring.ctl + OFF_CONSUMER) >> 2, 0, this.#token);
    if (held !== 0) {
      throw new RingBufferStateError(
        'this ring already has a consumer: a ring has one consumer at a time. close() the other consumer first, ' +
          'or, if the thread it ran on is gone, call ring.reapConsumer() and then add the ring here.',
        'ERR_RINGBUF_CONSUMER_TAKEN',
      );
    }
    this.cons = this.published = this.prod = this.mark = this.#roomAt = ring.wasm.query(ring.ctl, BPF_RB_CONS_POS);
    this.drops = ring.i32[(ring.ctl + OFF_CONSUMER_DROPS) >> 2]! & DROPS_MASK;
    this.#copy = ring.overwriteMode ? new Uint8Array(ring.maxRecord) : null;
    this.src = this.#copy ?? ring.bytes;
    this.#srcBuffer = this.#copy?.buffer ?? ring.sharedBuffer;
    // what the previous consumer had counted and not reported: reported first
    // (read after the CONSUMER token's compare-and-swap above, which orders it
    // after that consumer's store in release())
    this.#carry = new Float64Array(ring.memory.buffer, ring.ctl + OFF_CONSUMER_CARRY, 1);
    this.lost = this.#carry[0]!;
    this.#carry[0] = 0;
    if (ring.overwriteMode) {
      // records overwritten before this consumer came are lost before its first record
      this.#reported = new Float64Array(ring.memory.buffer, ring.ctl + OFF_CONSUMER_OVERWRITTEN, 1);
      this.#overwritten = ring.wasm.counter(ring.ctl, OFF_OVERWRITTEN);
      this.lost += this.#overwritten - this.#reported[0]!;
      this.#reported[0] = this.#overwritten;
    }
  }

  /**
   * Finds the next committed record and leaves it in off/len/next; false
   * when the ring is empty or its next record is still BUSY. Discarded
   * records are skipped, their losses carried on. Reads PRODUCER_POS only
   * when the cached copy is used up, as libbpf does once per pass.
   */
  peek(): boolean {
    if (this.#stopped) return false;
    if (this.off >= 0) return true;
    if (this.#error !== null) throw this.#error;
    return this.#copy === null ? this.#peek() : this.#peekOverwrite(this.#copy);
  }

  #peek(): boolean {
    return this.#walk(1, null, Infinity) > 0;
  }

  /**
   * Delivers up to `n` committed records to `visit`, in order, and returns
   * how many, or the negative number `visit` returned. A record counts as
   * consumed before `visit` sees it, so one whose callback throws is not
   * delivered again. The position is not published at the end: the caller
   * does that (publish()), once per pass, as libbpf does. Records at or past
   * position `limit` are left for a later call.
   */
  deliver(n: number, visit: RecordVisitor, limit = Infinity): number {
    if (this.#error !== null) throw this.#error;
    if (this.#stopped) return 0;
    let count = 0;
    // the record a peek() left at the head; in overwrite mode, which copies each record out and claims it, every record
    while (count < n && this.cons < limit && (this.off >= 0 || this.#copy !== null) && this.peek()) {
      const { src, off, len } = this;
      count++;
      const r = visit(src, off, len, this.take());
      if (typeof r === 'number' && r < 0) return r;
    }
    if (this.#copy !== null) return count;
    const got = this.#walk(n - count, visit, limit);
    return got < 0 ? got : count + got;
  }

  /**
   * The walk itself: from the consumer position to PRODUCER_POS, stopping
   * at a BUSY record, skipping discarded ones and counting losses. With a
   * `visit`, delivers up to `n` records to it; without, stops at the first
   * record to deliver and leaves it in off/len/next for take(). Stops at
   * position `limit`. Reads PRODUCER_POS only when the cached copy is used
   * up, as libbpf does once per pass.
   */
  #walk(n: number, visit: RecordVisitor | null, limit: number): number {
    const i32 = this.#i32;
    const data = this.#data;
    const mask = this.#mask;
    const src = this.src;
    const { maxRecord, claimMode } = this.ring;
    let cons = this.cons;
    let prod = this.prod;
    let count = 0;
    while (count < n && cons < limit) {
      if (cons >= prod) {
        // A pass lasts as long as producers keep up with it: give them the
        // room read so far before looking for more, as libbpf stores the
        // position as it goes, or they would find the ring full meanwhile.
        if (cons - this.published >= this.#publishEvery) this.publish(false);
        // acquire: pairs with the PRODUCER_POS store in reserveLocked() (assembly/ring.ts)
        prod = this.ring.wasm.producerPos(this.ring.ctl);
        if (prod <= cons) {
          if (prod < cons) throw this.#corrupt(cons, `the producer position ${prod} is behind the consumer`);
          break;
        }
        if (prod - cons > mask + 1) throw this.#corrupt(cons, `the producer position ${prod} is more than a ring ahead`);
        this.prod = prod;
      }
      const at = data + (cons & mask);
      // acquire: pairs with the header xchg in commit() (assembly/ring.ts)
      const hdr = Atomics.load(i32, at >> 2);
      if (hdr < 0) {
        // BUSY: wait for its producer. BUSY with DISCARD is free space in 'cas' mode, never written otherwise.
        if ((hdr & DISCARD_BIT) !== 0 && !claimMode) throw this.#corrupt(cons, `header 0x${(hdr >>> 0).toString(16)} has both BUSY and DISCARD set`);
        break;
      }
      const len = hdr & LEN_MASK;
      const next = cons + ((len + 15) & ~7);
      if (len > maxRecord) throw this.#corrupt(cons, `header 0x${(hdr >>> 0).toString(16)}: length ${len} exceeds the largest record (${maxRecord})`);
      if (next > prod) throw this.#corrupt(cons, `header 0x${(hdr >>> 0).toString(16)}: its record runs past the producer position ${prod}`);
      const w1 = i32[(at >> 2) + 1]!;
      if ((hdr & DISCARD_BIT) !== 0) {
        this.#count(w1);
        if (w1 >>> ID_SHIFT === LOSS_ID && len === LOSS_LEN) this.lost += lossRecord(i32, at);
        this.cons = cons = next;
        continue;
      }
      if (visit === null) {
        // the head stays in the ring until it is taken (take() counts its losses)
        this.#headW1 = w1;
        this.off = at + 8;
        this.len = len;
        this.next = next;
        return 1;
      }
      this.#count(w1);
      count++;
      this.cons = cons = next;
      const lost = this.lost;
      this.lost = 0;
      const r = visit(src, at + 8, len, lost);
      if (typeof r === 'number' && r < 0) return r;
      if (this.#stopped) return count; // close() in the callback: the pass ends at this record
      if (this.off >= 0 || this.#error !== null) {
        // a callback peeked at this ring (a poll() within it) or met a contradiction: go on through deliver()
        const more = this.deliver(n - count, visit, limit);
        return more < 0 ? more : count + more;
      }
      // a callback may have consumed from this ring itself (a consume() within it): go on from there
      cons = this.cons;
      prod = this.prod;
    }
    return count;
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
    const { wasm, ctl, bytes, maxRecord } = this.ring;
    for (;;) {
      const cons = this.cons;
      const prod = wasm.producerPos(ctl);
      if (prod <= cons) {
        if (prod < cons) throw this.#corrupt(cons, `the producer position ${prod} is behind the consumer`);
        return false;
      }
      const at = this.#data + (cons & this.#mask);
      const hdr = Atomics.load(i32, at >> 2);
      if (hdr < 0) {
        if (this.#moved(cons) > 0) continue;
        return false; // BUSY: wait for its producer (or for a move to be done)
      }
      const len = hdr & LEN_MASK;
      const next = cons + ((len + 15) & ~7);
      if (len > maxRecord || next > prod) {
        const moved = this.#moved(cons); // overwritten while we read it?
        if (moved > 0) continue;
        if (moved < 0) return false;
        throw this.#corrupt(cons, len > maxRecord
          ? `header 0x${(hdr >>> 0).toString(16)}: length ${len} exceeds the largest record (${maxRecord})`
          : `header 0x${(hdr >>> 0).toString(16)}: its record runs past the producer position ${prod}`);
      }
      const w1 = i32[(at >> 2) + 1]!;
      const keep = (hdr & DISCARD_BIT) === 0;
      const loss = !keep && w1 >>> ID_SHIFT === LOSS_ID && len === LOSS_LEN ? lossRecord(i32, at) : 0;
      if (keep) copy.set(bytes.subarray(at + 8, at + 8 + len));
      // pairs with the compare-and-swap in overwriteOldest() (assembly/ring.ts)
      if (wasm.advanceConsumer(ctl, cons, next, w1 & DROPS_MASK, 1) === 0) {
        const moved = this.#moved(cons);
        if (moved > 0) continue;
        if (moved < 0) return false;
        throw this.#corrupt(cons, `the consumer position was changed to ${wasm.query(ctl, BPF_RB_CONS_POS)} outside this consumer`);
      }
      this.#count(w1);
      this.lost += loss;
      this.cons = this.published = next;
      if (!keep) continue;
      this.off = 0;
      this.len = len;
      this.next = next;
      return true;
    }
  }

  /**
   * Overwrite mode: whether a producer moved CONSUMER_POS past `cons` (1),
   * did not (0), or is moving it (-1). If it moved, the walk resumes there,
   * and the records passed are counted as lost right there, before the first
   * record after the gap [A3]. OVERWRITE_POS is the mover's last store, after
   * OVERWRITTEN: once it has reached the position found, OVERWRITTEN
   * includes that move, and reading CONSUMER_POS again makes sure it
   * includes no later one. Before that the move is in progress: the walk
   * stops there as at a BUSY record, and the consumer sleeps until the
   * mover's wake() after its OVERWRITE_POS store (pairs with the WAIT store
   * before the last look, src/wait.ts). The model waits there; the code
   * spins MOVE_SPINS times first, which only saves a sleep.
   */
  #moved(cons: number): number {
    const { wasm, ctl } = this.ring;
    for (let spins = 0; ; spins++) {
      const to = wasm.query(ctl, BPF_RB_CONS_POS);
      if (to <= cons) return 0;
      if (wasm.query(ctl, BPF_RB_OVERWRITE_POS) < to) {
        if (spins < MOVE_SPINS) continue;
        return -1;
      }
      const total = wasm.counter(ctl, OFF_OVERWRITTEN);
      if (wasm.query(ctl, BPF_RB_CONS_POS) !== to) continue;
      this.lost += total - this.#overwritten;
      this.#overwritten = this.#reported![0] = total;
      this.cons = this.published = to;
      return 1;
    }
  }

  /** Adds the refusals between the previous record and this one (word 1's DROPPED snapshots). */
  #count(w1: number): void {
    const drops = w1 & DROPS_MASK;
    this.lost += (drops - this.drops) & DROPS_MASK;
    this.drops = drops;
  }

  /**
   * A view of `src[offset .. offset + length)`, for the callbacks that take
   * one. Made on the buffer read once: `src.subarray()` costs about twice as
   * much on shared memory.
   */
  view(offset: number, length: number): Uint8Array {
    return new Uint8Array(this.#srcBuffer, offset, length);
  }

  /** Consumes the head record found by peek(); returns the losses reported with it. */
  take(): number {
    if (this.#copy === null) this.#count(this.#headW1);
    const lost = this.lost;
    this.lost = 0;
    this.cons = this.next;
    this.off = -1;
    return lost;
  }

  /**
   * Stores the consumer position (release: pairs with the CONSUMER_POS loads
   * in reserve() and commit()), with a compare-and-swap from the value last
   * stored, so that a position written by someone else is found; then wakes
   * the producers waiting for room, if any. `room` false (a publish within a
   * pass) wakes them only once ROOM_FRACTION of the ring has been freed
   * since they last were; the next publish with `room` pays what is owed.
   */
  publish(room = true): void {
    if (this.#copy !== null) return;
    const from = this.published;
    const to = this.cons;
    const look = room ? this.#roomAt !== to : to - this.#roomAt >= this.#roomEvery;
    if (to === from && !look) return;
    const { wasm, ctl, bytes, claimMode } = this.ring;
    if (claimMode) clearConsumed(bytes, this.#data, this.#mask, from, to);
    this.published = to;
    if (look) this.#roomAt = to;
    if (wasm.advanceConsumer(ctl, from, to, this.drops, look ? 1 : 0) === 0) {
      throw this.#corrupt(from, `the consumer position was changed to ${wasm.query(ctl, BPF_RB_CONS_POS)} outside this consumer`);
    }
  }

  /** The producer id of the BUSY record at the consumer position, or -1 when the head is not BUSY. */
  busyHead(): number {
    if (!(this.cons < this.ring.wasm.producerPos(this.ring.ctl))) return -1;
    const i = (this.#data + (this.cons & this.#mask)) >> 2;
    return Atomics.load(this.#i32, i) < 0 ? this.#i32[i + 1]! >>> ID_SHIFT : -1;
  }

  /** Ends the reading: from now on the cursor delivers nothing (a pass in progress ends at its current record). */
  stop(): void {
    this.#stopped = true;
  }

  /**
   * Gives the ring up, so that another consumer may read it from where this
   * one stopped: publishes the position, leaves the losses counted and not
   * yet reported in CONSUMER_CARRY for that consumer's first record (in
   * overwrite mode, also a record claimed from the ring and never handed
   * out), and only then frees the CONSUMER token [C9].
   */
  release(): void {
    if (this.#released) return;
    this.#stopped = true;
    this.#released = true;
    try {
      if (this.#error === null) this.publish();
    } catch {
      // a position changed outside this consumer: the calls that read report it, and this one is closing
    } finally {
      const claimed = this.#copy !== null && this.off >= 0 ? 1 : 0;
      this.#carry[0] = this.#carry[0]! + this.lost + claimed;
      this.lost = 0;
      this.off = -1;
      // release: pairs with the compare-and-swap that takes the token in the next consumer's constructor
      Atomics.compareExchange(this.ring.i32, (this.ring.ctl + OFF_CONSUMER) >> 2, this.#token, 0);
    }
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

/** The refusals a loss record carries beyond its word 1 (a u64 payload). */
function lossRecord(i32: Int32Array, at: number): number {
  const i = (at >> 2) + 2;
  return (i32[i]! >>> 0) + (i32[i + 1]! >>> 0) * 2 ** 32;
}

/** In the lock-free claim mode, freed space must read as BUSY (all ones) before producers can claim it. */
function clearConsumed(bytes: Uint8Array, data: number, mask: number, from: number, to: number): void {
  const a = from & mask;
  const b = to & mask;
  if (to - from > mask || (a >= b && to !== from)) {
    bytes.fill(0xff, data + a, data + mask + 1);
    bytes.fill(0xff, data, data + b);
  } else {
    bytes.fill(0xff, data + a, data + b);
  }
}
