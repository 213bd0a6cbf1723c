// Many rings, one consumer: a cursor that reads one ring record by record
// (peek, then take), the wait on every ring at once, a consumer that serves
// its rings round-robin so that one flooding ring cannot starve the others,
// and a helper that shards N producers over K rings.
//
// The cursor follows libbpf's ringbuf_process_ring() (and RingBufferConsumer's
// #process in src/consumer.ts) step for step, but splits "look at the next
// committed record" from "consume it": the ordered merge of src/perfbuf.ts
// must see the head of every ring before it picks one.

import { BPF_RB_CONS_POS } from './constants.js';
import { RingBufferCorruptError, RingBufferRangeError, RingBufferStateError, RingBufferTypeError, checkInteger, describeValue } from './errors.js';
import { DISCARD_BIT, DROPS_MASK, LEN_MASK, OFF_CONSUMER_DROPS, OFF_WAIT } from './layout.js';
import { RingBuffer, type RingBufferHandle, type RingBufferOptions } from './ring-buffer.js';
import { sleepOnWaitWords, type RawSampleCallback, type SampleCallback } from './consumer.js';

/** @internal One ring as seen by a consumer of many: its position, its head record, its losses. */
export class RingCursor {
  readonly ring: RingBuffer;
  readonly i32: Int32Array;
  readonly data: number;
  readonly mask: number;
  /** Index of the ring's WAIT word in i32. */
  readonly waitIndex: number;
  /** Next position to read; `published` is what CONSUMER_POS holds. */
  cons: number;
  published: number;
  /** PRODUCER_POS as last read. */
  prod: number;
  /** DROPPED snapshot (20 bits) of the last record read. */
  drops: number;
  /** Refusals not yet reported, carried by the head record. */
  lost = 0;
  /** Payload offset of the head record (-1: none yet), its length and the position after it. */
  off = -1;
  len = 0;
  next = 0;

  constructor(ring: RingBuffer) {
    if (ring === null || typeof ring !== 'object' || !('ex' in ring)) {
      throw new RingBufferTypeError(`expected a RingBuffer from RingBuffer.create() or .attach(); got ${describeValue(ring)}`, 'ERR_RINGBUF_TYPE');
    }
    if (ring.claimMode || ring.overwriteMode) {
      throw new RingBufferStateError(
        "this consumer reads rings in the default mode only (claim: 'lock', no overwrite); use RingBufferConsumer for 'cas' or overwrite rings",
        'ERR_RINGBUF_MODE',
      );
    }
    this.ring = ring;
    this.i32 = ring.i32;
    this.data = ring.data;
    this.mask = ring.size - 1;
    this.waitIndex = (ring.ctl + OFF_WAIT) >> 2;
    this.cons = this.published = this.prod = ring.ex.query(ring.ctl, BPF_RB_CONS_POS);
    this.drops = ring.i32[(ring.ctl + OFF_CONSUMER_DROPS) >> 2]! & DROPS_MASK;
  }

  /**
   * Finds the next committed record (discarded ones are skipped, their
   * losses carried on) and leaves it in off/len/next. False when the ring is
   * empty or its next record is still BUSY. Reads PRODUCER_POS only when the
   * cached copy is used up, as libbpf does once per pass.
   */
  peek(): boolean {
    if (this.off >= 0) return true;
    const { i32, data, mask } = this;
    const maxRecord = this.ring.maxRecord;
    for (;;) {
      const cons = this.cons;
      if (cons >= this.prod) {
        // acquire: pairs with the PRODUCER_POS store in reserve() (assembly/ring.ts)
        const prod = this.ring.ex.producerPos(this.ring.ctl);
        if (prod <= cons) {
          if (prod < cons) throw corrupt(cons, `the producer position ${prod} is behind the consumer`);
          return false;
        }
        if (prod - cons > mask + 1) throw corrupt(cons, `the producer position ${prod} is more than a ring ahead`);
        this.prod = prod;
      }
      const at = data + (cons & mask);
      // acquire: pairs with the header xchg in commit() (assembly/ring.ts)
      const hdr = Atomics.load(i32, at >> 2);
      if (hdr < 0) {
        if ((hdr & DISCARD_BIT) !== 0) throw corrupt(cons, `header 0x${(hdr >>> 0).toString(16)} has both BUSY and DISCARD set`);
        return false; // BUSY: wait for its producer
      }
      const len = hdr & LEN_MASK;
      const next = cons + ((len + 15) & ~7);
      if (len > maxRecord) throw corrupt(cons, `header 0x${(hdr >>> 0).toString(16)}: length ${len} exceeds the largest record (${maxRecord})`);
      if (next > this.prod) throw corrupt(cons, `header 0x${(hdr >>> 0).toString(16)}: its record runs past the producer position ${this.prod}`);
      const w1 = i32[(at >> 2) + 1]! & DROPS_MASK;
      this.lost += (w1 - this.drops) & DROPS_MASK;
      this.drops = w1;
      if ((hdr & DISCARD_BIT) !== 0) {
        this.cons = next;
        continue;
      }
      this.off = at + 8;
      this.len = len;
      this.next = next;
      return true;
    }
  }

  /** Consumes the head record found by peek(); returns the losses reported with it. */
  take(): number {
    const lost = this.lost;
    this.lost = 0;
    this.cons = this.next;
    this.off = -1;
    return lost;
  }

  /** Stores the consumer position (release: pairs with the CONSUMER_POS loads in reserve() and commit()). */
  publish(): void {
    if (this.cons === this.published) return;
    const from = this.published;
    this.published = this.cons;
    if (this.ring.ex.advanceConsumer(this.ring.ctl, from, this.cons, this.drops) === 0) {
      throw corrupt(from, `the consumer position was changed to ${this.ring.ex.query(this.ring.ctl, BPF_RB_CONS_POS)} outside this consumer`);
    }
  }
}

function corrupt(pos: number, what: string): RingBufferCorruptError {
  return new RingBufferCorruptError(
    `ring corrupted at position ${pos}: ${what}. The shared memory was written outside the ring API; the consumer stopped before reading past it.`,
    'ERR_RINGBUF_CORRUPT',
    pos,
  );
}

/** @internal */
export function checkTimeout(timeoutMs: unknown): number {
  if (typeof timeoutMs !== 'number') throw new RingBufferTypeError(`timeoutMs must be a number; got ${describeValue(timeoutMs)}`, 'ERR_RINGBUF_TYPE');
  if (!(timeoutMs >= 0 || timeoutMs === -1)) {
    throw new RingBufferRangeError(`timeoutMs must be -1 (wait without end), 0 (do not wait) or a positive number of milliseconds; got ${timeoutMs}`, 'ERR_RINGBUF_RANGE');
  }
  // a waitAsync timeout below about half a millisecond returns at once (Node 20): it would spin
  return timeoutMs > 0 && timeoutMs < 1 ? 1 : timeoutMs;
}

/** @internal */
export function checkCount(n: unknown): asserts n is number {
  if (typeof n !== 'number') throw new RingBufferTypeError(`n must be a number; got ${describeValue(n)}`, 'ERR_RINGBUF_TYPE');
  if (!(n >= 0 && (Number.isInteger(n) || n === Infinity))) {
    throw new RingBufferRangeError(`n must be a non-negative integer (or Infinity); got ${n}`, 'ERR_RINGBUF_RANGE');
  }
}


/**
 * @internal
 * The poll() loop shared by the consumers of many rings: consume; if
 * nothing came, announce sleep on every ring (WAIT = 1), look once more with
 * `ready()`, and sleep in `Atomics.waitAsync` on all the WAIT words at once
 * until any producer wakes us or the time runs out.
 */
export async function pollRings(cursors: readonly RingCursor[], timeoutMs: number, consume: () => number, ready: () => boolean): Promise<number> {
  let n = consume();
  if (n !== 0 || timeoutMs === 0) return n;
  const deadline = timeoutMs < 0 ? Infinity : performance.now() + timeoutMs;
  for (;;) {
    const left = deadline - performance.now();
    if (left <= 0) return 0;
    for (const c of cursors) c.publish(); // the adaptive wakeup rule compares against CONSUMER_POS
    // Dekker with the producers: our WAIT stores before the look in ready(),
    // their commit (and, for a per-producer buffer, the idle store of their
    // low mark) before their WAIT load in wake() (assembly/ring.ts, src/perfbuf.ts)
    for (const c of cursors) Atomics.store(c.i32, c.waitIndex, 1);
    try {
      // ready() may have stepped over discarded records without publishing: a
      // producer compares its record with CONSUMER_POS, so publish first (next turn)
      if (!ready() && cursors.every((c) => c.cons === c.published)) await sleepAny(cursors, left);
    } finally {
      for (const c of cursors) Atomics.store(c.i32, c.waitIndex, 0);
    }
    n = consume();
    if (n !== 0) return n;
  }
}

function sleepAny(cursors: readonly RingCursor[], ms: number): Promise<void> {
  return sleepOnWaitWords(cursors.map((c) => ({ i32: c.i32, index: c.waitIndex })), ms);
}

interface FairSlot {
  cursor: RingCursor;
  view: SampleCallback | null;
  raw: RawSampleCallback | null;
  buffer: ArrayBufferLike;
}

/** Options of `FairConsumer`. */
export interface FairConsumerOptions {
  /**
   * Records a ring may deliver per turn before the next ring's turn
   * (default 16). Smaller is fairer, larger reads longer runs from one ring.
   */
  quantum?: number;
}

/**
 * A consumer of many rings that serves them round-robin: each ring with
 * records delivers at most `quantum` of them per turn, then the next ring
 * goes, and each `consumeN()` call starts at the ring after the one that went
 * last. A ring that never runs dry therefore takes at most its share of each
 * call, where `RingBufferConsumer.consumeN()` (like libbpf's
 * `ring_buffer__consume_n()`) drains its rings in the order they were added.
 * `consume()` delivers at most what each ring held when the call began, so it
 * ends even while a producer floods. Same callbacks and return values as
 * `RingBufferConsumer`; rings in the default mode only (no 'cas', no overwrite).
 * One thread only.
 */
export class FairConsumer {
  readonly #slots: FairSlot[] = [];
  readonly #cursors: RingCursor[] = [];
  readonly #quantum: number;
  readonly #turns = { start: 0 };

  constructor(options: FairConsumerOptions = {}) {
    const quantum = options.quantum ?? 16;
    checkInteger(quantum, 'quantum', 2 ** 30, 'Use a positive integer such as 16.');
    if (quantum === 0) throw new RingBufferRangeError('quantum must be at least 1; got 0', 'ERR_RINGBUF_RANGE');
    this.#quantum = quantum;
  }

  /** `ring_buffer__add()`: consume `ring` too, calling `callback(data, lost)` for its records. */
  add(ring: RingBuffer, callback: SampleCallback): this {
    return this.#add(ring, callback, null);
  }

  /** `ring_buffer__add()` with the zero-allocation callback form. */
  addRaw(ring: RingBuffer, callback: RawSampleCallback): this {
    return this.#add(ring, null, callback);
  }

  #add(ring: RingBuffer, view: SampleCallback | null, raw: RawSampleCallback | null): this {
    if (typeof (view ?? raw) !== 'function') throw new RingBufferTypeError(`callback must be a function; got ${describeValue(view ?? raw)}`, 'ERR_RINGBUF_TYPE');
    if (this.#slots.some((s) => s.cursor.ring.memory === ring?.memory && s.cursor.ring.ctl === ring.ctl)) {
      throw new RingBufferStateError('this ring is already added to this consumer: a ring has one consumer callback', 'ERR_RINGBUF_DUPLICATE');
    }
    const cursor = new RingCursor(ring);
    this.#slots.push({ cursor, view, raw, buffer: ring.memory.buffer });
    this.#cursors.push(cursor);
    return this;
  }

  /** The rings, in the order they were added. */
  get rings(): readonly RingBuffer[] {
    return this.#cursors.map((c) => c.ring);
  }

  /** `ring_buffer__consume()`: every record each ring held when the call began, round-robin. */
  consume(): number {
    return this.#run(Infinity, true);
  }

  /** `ring_buffer__consume_n()`: up to `n` records, round-robin, `quantum` per ring per turn. */
  consumeN(n: number): number {
    checkCount(n);
    return this.#run(n, false);
  }

  /** `ring_buffer__poll()`: as `RingBufferConsumer.poll()`, sleeping on every ring at once. */
  poll(timeoutMs = -1): Promise<number> {
    const ms = checkTimeout(timeoutMs);
    return pollRings(this.#cursors, ms, () => this.consume(), () => this.#cursors.some((c) => c.peek()));
  }

  #run(n: number, snapshot: boolean): number {
    if (this.#slots.length === 0) return 0;
    return roundRobin(this.#cursors, this.#turns, this.#quantum, n, snapshot, this.#deliver);
  }

  /** Hands the head record of ring `i` to its callback. */
  readonly #deliver = (i: number): number | void => {
    const s = this.#slots[i]!;
    const c = s.cursor;
    const off = c.off;
    const len = c.len;
    const lost = c.take();
    return s.raw !== null ? s.raw(c.ring.bytes, off, len, lost) : s.view!(new Uint8Array(s.buffer, off, len), lost);
  };
}

/**
 * @internal
 * The round-robin pass shared by `FairConsumer` and the unordered
 * `PerfBufferConsumer`: up to `quantum` records from each ring in turn,
 * starting after the ring that delivered last (`turns.start`), until `n`
 * records or a pass that finds nothing. With `snapshot` (consume()), each
 * ring stops at the position its producers had reached when the call began,
 * so the call ends even while a producer floods. `deliver(i)` takes ring `i`'s
 * head record (peek() found it); a negative return stops the pass and is
 * returned.
 */
export function roundRobin(
  cursors: readonly RingCursor[],
  turns: { start: number },
  quantum: number,
  n: number,
  snapshot: boolean,
  deliver: (i: number) => number | void,
): number {
  const k = cursors.length;
  const limits = snapshot ? cursors.map((c) => c.ring.ex.producerPos(c.ring.ctl)) : null;
  let total = 0;
  try {
    for (;;) {
      let round = 0;
      const first = turns.start;
      for (let j = 0; j < k && total < n; j++) {
        const i = (first + j) % k;
        const cur = cursors[i]!;
        const limit = limits === null ? Infinity : limits[i]!;
        let turn = 0;
        while (turn < quantum && total < n && cur.cons < limit && cur.peek()) {
          turn++;
          total++;
          const r = deliver(i);
          if (typeof r === 'number' && r < 0) {
            turns.start = (i + 1) % k;
            return r;
          }
        }
        cur.publish();
        round += turn;
        // the next call starts after the last ring that delivered
        if (turn > 0) turns.start = (i + 1) % k;
      }
      if (round === 0 || total >= n) return total;
    }
  } finally {
    for (const cur of cursors) cur.publish();
  }
}

/** Options of `ShardedRings.create()`. */
export interface ShardedRingsOptions extends Omit<RingBufferOptions, 'singleProducer' | 'overwrite' | 'claim'> {
  /** Number of rings, K >= 1. Producer i writes to ring i % K. */
  rings: number;
}

/** What `ShardedRings.handle` returns: structured-cloneable, one ring handle per shard. */
export interface ShardedRingsHandle {
  readonly kind: 'wasm-ringbuf-shards';
  readonly rings: readonly RingBufferHandle[];
}

/**
 * N producers over K rings (the BPF "array of ring buffers" pattern: one
 * ring per CPU, or something in between with a few rings): producer `i`
 * writes to ring `i % K`, so up to ceil(N/K) producers share each ring's
 * lock. Consume all of them with `consumer()` (a `FairConsumer`), or add the
 * rings to a `RingBufferConsumer`. Records from different rings carry no
 * common order.
 */
export class ShardedRings {
  /** The rings, shard 0 first. */
  readonly rings: readonly RingBuffer[];

  private constructor(rings: RingBuffer[]) {
    this.rings = rings;
  }

  /** Creates K rings with the same options. Rejects on bad options, as `RingBuffer.create()`. */
  static async create(options: ShardedRingsOptions): Promise<ShardedRings> {
    if (options === null || typeof options !== 'object') {
      throw new RingBufferTypeError(`ShardedRings.create() takes an options object such as { rings: 2, size: 65536 }; got ${describeValue(options)}`, 'ERR_RINGBUF_TYPE');
    }
    const { rings: k, ...ring } = options;
    checkInteger(k, 'rings', 256, 'Use from 1 to 256 rings.');
    if (k === 0) throw new RingBufferRangeError('rings must be at least 1; got 0', 'ERR_RINGBUF_RANGE');
    const rings: RingBuffer[] = [];
    for (let i = 0; i < k; i++) rings.push(await RingBuffer.create(ring));
    return new ShardedRings(rings);
  }

  /** The ring producer `index` (0, 1, ...) writes to: ring `index % K`, attached in this thread. */
  static async attach(handle: ShardedRingsHandle, index: number): Promise<RingBuffer> {
    if (handle === null || typeof handle !== 'object' || handle.kind !== 'wasm-ringbuf-shards' || !Array.isArray(handle.rings) || handle.rings.length === 0) {
      throw new RingBufferTypeError('not a sharded-rings handle: pass the value of shards.handle from ShardedRings.create()', 'ERR_RINGBUF_HANDLE');
    }
    checkInteger(index, 'producer index', 2 ** 31, 'Use 0, 1, 2, ... one per producer.');
    return RingBuffer.attach(handle.rings[index % handle.rings.length]!);
  }

  /** A structured-cloneable handle for `ShardedRings.attach()` in another thread. */
  get handle(): ShardedRingsHandle {
    return { kind: 'wasm-ringbuf-shards', rings: this.rings.map((r) => r.handle) };
  }

  /** The ring of producer `index`. */
  ringOf(index: number): RingBuffer {
    return this.rings[index % this.rings.length]!;
  }

  /** A `FairConsumer` of every ring, calling `callback(data, lost, shard)`. */
  consumer(callback: (data: Uint8Array, lost: number, shard: number) => number | void, options?: FairConsumerOptions): FairConsumer {
    const c = new FairConsumer(options);
    this.rings.forEach((ring, shard) => c.add(ring, (data, lost) => callback(data, lost, shard)));
    return c;
  }

  /** As `consumer()`, with the zero-allocation callback form. */
  consumerRaw(callback: (bytes: Uint8Array, offset: number, length: number, lost: number, shard: number) => number | void, options?: FairConsumerOptions): FairConsumer {
    const c = new FairConsumer(options);
    this.rings.forEach((ring, shard) => c.addRaw(ring, (bytes, offset, length, lost) => callback(bytes, offset, length, lost, shard)));
    return c;
  }
}
