import { RingBufferCorruptError, RingBufferRangeError, RingBufferStateError, RingBufferTypeError, describeValue } from './errors.js';
import { DISCARD_BIT, DROPS_MASK, ID_SHIFT, LEN_MASK, OFF_CONSUMER_DROPS, OFF_WAIT, BPF_RB_CONS_POS } from './layout.js';
import type { RingBuffer } from './ring-buffer.js';

/**
 * Called once per record with a view of its payload, valid only during the
 * call (copy what you keep). `lost` is the number of records refused for lack
 * of room between the previous record delivered from this ring and this one.
 * Return a negative number to stop the loop; that number is returned.
 */
export type SampleCallback = (data: Uint8Array, lost: number) => number | void;

/**
 * The zero-allocation form of `SampleCallback`: the payload is
 * `bytes[offset .. offset + length)` of the ring's memory, valid only during
 * the call.
 */
export type RawSampleCallback = (bytes: Uint8Array, offset: number, length: number, lost: number) => number | void;

interface Slot {
  readonly ring: RingBuffer;
  readonly view: SampleCallback | null;
  readonly raw: RawSampleCallback | null;
  readonly buffer: ArrayBufferLike;
  /** Index of the WAIT word in ring.i32. */
  readonly waitIndex: number;
  /** The consumer position, kept here between passes; the ring's copy is stored per pass. */
  cons: number;
  /** DROPPED snapshot (20 bits) of the last record read. */
  drops: number;
  /** Refusals seen on discarded records, reported with the next delivered record. */
  lost: number;
  /** The BUSY record stalls() last saw at the head, and since when. */
  busyPos: number;
  busySince: number;
  /** Overwrite mode: records are copied here and checked before delivery. */
  readonly copy: Uint8Array | null;
}

/** A record the consumer has been waiting at, still BUSY: see `RingBufferConsumer.stalls()`. */
export interface Stall {
  ring: RingBuffer;
  /** Its position (a byte counter, as `BPF_RB_CONS_POS`). */
  position: number;
  /** The producer that reserved it (0 if anonymous): `ring.reapProducer(id)` once that producer is gone. */
  producerId: number;
  /** Milliseconds since `stalls()` first saw it at the head. */
  ms: number;
}

function checkCallback(cb: unknown, what: string): void {
  if (typeof cb !== 'function') throw new RingBufferTypeError(`${what} must be a function; got ${describeValue(cb)}`, 'ERR_RINGBUF_TYPE');
}

function checkTimeout(timeoutMs: unknown): asserts timeoutMs is number {
  if (typeof timeoutMs !== 'number') throw new RingBufferTypeError(`timeoutMs must be a number; got ${describeValue(timeoutMs)}`, 'ERR_RINGBUF_TYPE');
  if (!(timeoutMs >= 0 || timeoutMs === -1)) {
    throw new RingBufferRangeError(`timeoutMs must be -1 (wait without end), 0 (do not wait) or a positive number of milliseconds; got ${timeoutMs}`, 'ERR_RINGBUF_RANGE');
  }
}

const noop = (): void => {};

/**
 * The consumer of one or more rings, the twin of libbpf's `struct ring_buffer`
 * (`ring_buffer__new`, `__add`, `__consume`, `__consume_n`, `__poll`).
 * Use it from one thread only: a ring has a single consumer.
 */
export class RingBufferConsumer {
  readonly #slots: Slot[] = [];
  /** Cancels of the waits in flight in waitAsync stand-in workers. */
  readonly #inFlight = new Set<() => void>();
  /** Bumped by close(), so that a pending poll() returns. */
  #closes = 0;

  /** `ring_buffer__new()`: a consumer of `ring`, calling `callback` per record. Both may be left out and given to `add()`. */
  constructor(ring?: RingBuffer, callback?: SampleCallback) {
    if (ring !== undefined) this.add(ring, callback as SampleCallback);
  }

  /** `ring_buffer__add()`: consume `ring` too, calling `callback` for its records. */
  add(ring: RingBuffer, callback: SampleCallback): this {
    checkCallback(callback, 'callback');
    return this.#add(ring, callback, null);
  }

  /** `ring_buffer__add()` with the zero-allocation callback form. */
  addRaw(ring: RingBuffer, callback: RawSampleCallback): this {
    checkCallback(callback, 'callback');
    return this.#add(ring, null, callback);
  }

  #add(ring: RingBuffer, view: SampleCallback | null, raw: RawSampleCallback | null): this {
    if (ring === null || typeof ring !== 'object' || !('ex' in ring)) {
      throw new RingBufferTypeError(`add() takes a RingBuffer from RingBuffer.create() or .attach(); got ${describeValue(ring)}`, 'ERR_RINGBUF_TYPE');
    }
    if (this.#slots.some((s) => s.ring.memory === ring.memory && s.ring.ctl === ring.ctl)) {
      throw new RingBufferStateError('this ring is already added to this consumer: a ring has one consumer callback', 'ERR_RINGBUF_DUPLICATE');
    }
    this.#slots.push({
      ring, view, raw,
      buffer: ring.memory.buffer,
      waitIndex: (ring.ctl + OFF_WAIT) >> 2,
      cons: ring.ex.query(ring.ctl, BPF_RB_CONS_POS),
      drops: ring.i32[(ring.ctl + OFF_CONSUMER_DROPS) >> 2]! & DROPS_MASK,
      lost: 0,
      busyPos: -1,
      busySince: 0,
      copy: ring.overwriteMode ? new Uint8Array(ring.maxRecord) : null,
    });
    return this;
  }

  /** The rings of this consumer, in the order they were added (libbpf `ring_buffer__ring()`). */
  get rings(): readonly RingBuffer[] {
    return this.#slots.map((s) => s.ring);
  }

  /**
   * Records the consumer is waiting at that are still BUSY (reserved, not yet
   * committed) and have been for at least `minMs` since an earlier call saw
   * them: call it from a timer to find a producer that leaked a reservation
   * or died. Each ring has at most one, at its head. Cheap: one header read
   * per ring; nothing on the hot path.
   */
  stalls(minMs = 0): Stall[] {
    const now = performance.now();
    const out: Stall[] = [];
    for (const s of this.#slots) {
      const { ring } = s;
      const idx = (ring.data + (s.cons & (ring.size - 1))) >> 2;
      if (!(s.cons < ring.ex.producerPos(ring.ctl) && Atomics.load(ring.i32, idx) < 0)) continue;
      if (s.busyPos !== s.cons) {
        s.busyPos = s.cons;
        s.busySince = now;
      }
      if (now - s.busySince >= minMs) {
        out.push({ ring, position: s.cons, producerId: ring.i32[idx + 1]! >>> ID_SHIFT, ms: now - s.busySince });
      }
    }
    return out;
  }

  /**
   * `ring_buffer__consume()`: hands every committed record of every ring to
   * its callback without waiting. Returns the number of records delivered, or
   * the negative number a callback returned (which stops the loop).
   */
  consume(): number {
    return this.consumeN(Infinity);
  }

  /**
   * `ring_buffer__consume_n()`: like `consume()`, but stops after `n`
   * records.
   */
  consumeN(n: number): number {
    if (typeof n !== 'number') throw new RingBufferTypeError(`n must be a number; got ${describeValue(n)}`, 'ERR_RINGBUF_TYPE');
    if (!(n >= 0 && (Number.isInteger(n) || n === Infinity))) {
      throw new RingBufferRangeError(`n must be a non-negative integer (or Infinity); got ${n}`, 'ERR_RINGBUF_RANGE');
    }
    let total = 0;
    for (const slot of this.#slots) {
      if (total >= n) break;
      const got = this.#process(slot, n - total);
      if (got < 0) return got;
      total += got;
    }
    return total;
  }

  /**
   * `ring_buffer__poll()`: consumes what is there; if nothing is, sleeps until
   * a producer's wakeup or `timeoutMs` (-1: without end; 0: do not sleep),
   * then consumes. Resolves to the number of records delivered (0 on
   * timeout), or the negative number a callback returned. Sleeps in
   * `Atomics.waitAsync`, so it never blocks the thread. Timeouts between 0
   * and 1 ms are taken as 1 ms.
   */
  async poll(timeoutMs = -1): Promise<number> {
    checkTimeout(timeoutMs);
    // a waitAsync timeout below about half a millisecond returns at once (Node 20): it would spin
    if (timeoutMs > 0 && timeoutMs < 1) timeoutMs = 1;
    let n = this.consume();
    if (n !== 0 || timeoutMs === 0) return n;
    const deadline = timeoutMs < 0 ? Infinity : performance.now() + timeoutMs;
    const closes = this.#closes;
    for (;;) {
      const left = deadline - performance.now();
      if (left <= 0) return 0;
      if (this.#arm()) {
        try {
          await this.#sleepAsync(left);
        } finally {
          this.#disarm();
        }
      }
      n = this.consume();
      if (n !== 0 || this.#closes !== closes) return n;
    }
  }

  /**
   * The blocking form of `poll()` for workers and Node's main thread
   * (`Atomics.wait`; a browser page's main thread cannot block). Waits on a
   * consumer of one ring only.
   */
  pollSync(timeoutMs = -1): number {
    checkTimeout(timeoutMs);
    if (this.#slots.length !== 1) {
      throw new RingBufferStateError(`pollSync() waits on exactly one ring; this consumer has ${this.#slots.length}. Use poll() for several rings.`, 'ERR_RINGBUF_POLL');
    }
    const slot = this.#slots[0]!;
    let n = this.consume();
    if (n !== 0 || timeoutMs === 0) return n;
    const deadline = timeoutMs < 0 ? Infinity : performance.now() + timeoutMs;
    for (;;) {
      const left = deadline - performance.now();
      if (left <= 0) return 0;
      if (this.#arm()) {
        // pairs with the xchg of WAIT and the notify in wake() (assembly/ring.ts)
        Atomics.wait(slot.ring.i32, slot.waitIndex, 1, left);
        this.#disarm();
      }
      n = this.consume();
      if (n !== 0) return n;
    }
  }

  /**
   * Announces sleep on every ring (WAIT = 1), then looks once more. Returns
   * true when nothing is ready, so the caller may sleep: a producer that
   * commits the record at our position after this look sees WAIT = 1 and
   * wakes us (Dekker: our WAIT store before the header load, its header xchg
   * before the WAIT load).
   */
  #arm(): boolean {
    for (const s of this.#slots) Atomics.store(s.ring.i32, s.waitIndex, 1);
    for (const s of this.#slots) {
      const { ring } = s;
      // overwrite mode: producers may have moved the consumer past s.cons meanwhile
      const cons = ring.overwriteMode ? Math.max(s.cons, ring.ex.query(ring.ctl, BPF_RB_CONS_POS)) : s.cons;
      if (cons !== s.cons || (cons < ring.ex.producerPos(ring.ctl) && Atomics.load(ring.i32, (ring.data + (cons & (ring.size - 1))) >> 2) >= 0)) {
        this.#disarm();
        return false;
      }
    }
    return true;
  }

  #disarm(): void {
    for (const s of this.#slots) {
      Atomics.store(s.ring.i32, s.waitIndex, 0);
    }
  }

  #sleepAsync(ms: number): Promise<void> {
    return sleepOnWaitWords(this.#slots.map((s) => ({ i32: s.ring.i32, index: s.waitIndex })), ms, this.#inFlight);
  }

  /**
   * Makes a pending `poll()` return at once with what it can consume (0 if
   * nothing), and ends the helper workers it was waiting in where a browser
   * lacks `Atomics.waitAsync`. The consumer stays usable.
   */
  close(): void {
    this.#closes++;
    for (const cancel of [...this.#inFlight]) cancel();
    // a waitAsync sleeper: only this consumer waits on its rings' WAIT words
    for (const s of this.#slots) Atomics.notify(s.ring.i32, s.waitIndex);
  }

  /**
   * libbpf's ringbuf_process_ring(): delivers up to `n` committed records of
   * one ring in order, skipping discarded ones, and stores the consumer
   * position at the end of each pass (and when a callback stops or throws).
   */
  #process(s: Slot, n: number): number {
    if (s.copy !== null) return this.#processOverwrite(s, s.copy, n);
    const { ring, raw, view } = s;
    const { ex, ctl, i32, bytes, data, maxRecord } = ring;
    const mask = ring.size - 1;
    let cons = s.cons;
    let drops = s.drops;
    let lost = s.lost;
    let count = 0;
    try {
      for (;;) {
        // acquire: pairs with the PRODUCER_POS store in reserve() (assembly/ring.ts)
        const prod = ex.producerPos(ctl);
        if (prod <= cons) {
          if (prod < cons) throw corrupt(cons, `the producer position ${prod} is behind the consumer`);
          break;
        }
        if (prod - cons > mask + 1) throw corrupt(cons, `the producer position ${prod} is more than a ring ahead`);
        while (cons < prod) {
          const off = data + (cons & mask);
          // acquire: pairs with the header xchg in commit()
          const hdr = Atomics.load(i32, off >> 2);
          if (hdr < 0) {
            // BUSY: wait for its producer. BUSY with DISCARD is free space in 'cas' mode, never written otherwise.
            if ((hdr & DISCARD_BIT) !== 0 && !ring.claimMode) throw corrupt(cons, `header 0x${(hdr >>> 0).toString(16)} has both BUSY and DISCARD set`);
            return count;
          }
          const len = hdr & LEN_MASK;
          const next = cons + ((len + 15) & ~7);
          if (len > maxRecord) throw corrupt(cons, `header 0x${(hdr >>> 0).toString(16)}: length ${len} exceeds the largest record (${maxRecord})`);
          if (next > prod) throw corrupt(cons, `header 0x${(hdr >>> 0).toString(16)}: its record runs past the producer position ${prod}`);
          const w1 = i32[(off >> 2) + 1]! & DROPS_MASK;
          lost += (w1 - drops) & DROPS_MASK;
          drops = w1;
          cons = next;
          if ((hdr & DISCARD_BIT) !== 0) continue;
          count++;
          const gap = lost;
          lost = 0;
          const r = raw !== null ? raw(bytes, off + 8, len, gap) : view!(new Uint8Array(s.buffer, off + 8, len), gap);
          if (typeof r === 'number' && r < 0) {
            return r;
          }
          if (count >= n) return count;
        }
      }
      return count;
    } finally {
      s.lost = lost;
      if (cons !== s.cons) {
        if (ring.claimMode) clearConsumed(bytes, data, mask, s.cons, cons);
        const from = s.cons;
        s.cons = cons;
        s.drops = drops;
        // release: pairs with the CONSUMER_POS loads in reserve() and commit()
        if (ex.advanceConsumer(ctl, from, cons, drops) === 0) {
          // eslint-disable-next-line no-unsafe-finally
          throw corrupt(from, `the consumer position was changed to ${ex.query(ctl, BPF_RB_CONS_POS)} outside this consumer`);
        }
      }
    }
  }

  /**
   * #process() for overwrite mode, where producers move CONSUMER_POS past
   * records the consumer has not read. Each record is copied out, then
   * claimed by a compare-and-swap of CONSUMER_POS; a producer passes records
   * with the same compare-and-swap, so a record is delivered (intact: the
   * producer writes over it only after its own swap) or counted as
   * overwritten, never both. Lost records are reported with the first record
   * reserved after they were lost.
   */
  #processOverwrite(s: Slot, copy: Uint8Array, n: number): number {
    const { ring, raw, view } = s;
    const { ex, ctl, i32, bytes, data, maxRecord } = ring;
    const mask = ring.size - 1;
    let count = 0;
    /** After an anomaly at `cons`: where a producer moved the consumer to, or a corruption error. */
    const passedTo = (cons: number, what: string): number => {
      const actual = ex.query(ctl, BPF_RB_CONS_POS);
      if (actual > cons) return actual;
      throw corrupt(cons, what);
    };
    for (;;) {
        const prod = ex.producerPos(ctl);
        let cons = s.cons;
        if (prod <= cons) {
          if (prod < cons) throw corrupt(cons, `the producer position ${prod} is behind the consumer`);
          return count;
        }
        while (cons < prod) {
          const off = data + (cons & mask);
          const hdr = Atomics.load(i32, off >> 2);
          const len = hdr & LEN_MASK;
          const next = cons + ((len + 15) & ~7);
          const w1 = i32[(off >> 2) + 1]! & DROPS_MASK;
          if (hdr < 0) {
            const actual = ex.query(ctl, BPF_RB_CONS_POS);
            if (actual > cons) break; // passed over: start again from there
            return count; // BUSY: wait for its producer
          }
          if (len > maxRecord || next > prod) {
            passedTo(cons, len > maxRecord
              ? `header 0x${(hdr >>> 0).toString(16)}: length ${len} exceeds the largest record (${maxRecord})`
              : `header 0x${(hdr >>> 0).toString(16)}: its record runs past the producer position ${prod}`);
            break;
          }
          const keep = (hdr & DISCARD_BIT) === 0;
          if (keep) copy.set(bytes.subarray(off + 8, off + 8 + len));
          // pairs with the compare-and-swap in overwriteOldest() (assembly/ring.ts)
          if (ex.advanceConsumer(ctl, cons, next, w1) === 0) {
            passedTo(cons, `the consumer position was changed to ${ex.query(ctl, BPF_RB_CONS_POS)} outside this consumer`);
            break;
          }
          s.lost += (w1 - s.drops) & DROPS_MASK;
          s.drops = w1;
          s.cons = cons = next;
          if (!keep) continue;
          count++;
          const gap = s.lost;
          s.lost = 0;
          const r = raw !== null ? raw(copy, 0, len, gap) : view!(copy.subarray(0, len), gap);
          if (typeof r === 'number' && r < 0) return r;
          if (count >= n) return count;
        }
        s.cons = Math.max(s.cons, ex.query(ctl, BPF_RB_CONS_POS));
    }
  }
}

// A worker that blocks in Atomics.wait on the consumer's behalf and answers
// when the wait ends: the stand-in for Atomics.waitAsync (Firefox before 145,
// Safari before 16.4). It waits on the same word with the same expected
// value, so it honours the wakeup flags exactly as waitAsync does.
const WAITER_SOURCE = `onmessage = (e) => {
  const { i32, index, timeout, id } = e.data;
  postMessage({ id, result: Atomics.wait(i32, index, 1, timeout) });
};`;

/**
 * The helper workers of this thread, shared by every consumer: one per wait
 * in flight, idle ones kept for the next wait.
 */
class BlockingWaiters {
  readonly #idle: Worker[] = [];
  #url: string | undefined;
  #next = 0;

  /**
   * Waits in a helper until the word at `index` is no longer 1 (or `ms`
   * pass). `cancel()` on the returned handle settles the wait at once and
   * ends that helper (it is blocked, so it cannot be reused).
   */
  wait(i32: Int32Array, index: number, ms: number): { done: Promise<unknown>; cancel: () => void } {
    if (typeof Worker !== 'function' || typeof Blob !== 'function') {
      throw new RingBufferStateError(
        'poll() needs Atomics.waitAsync, or Worker to stand in for it; this runtime has neither. Use pollSync() in a worker.',
        'ERR_RINGBUF_NO_WAIT',
      );
    }
    this.#url ??= URL.createObjectURL(new Blob([WAITER_SOURCE], { type: 'text/javascript' }));
    const worker = this.#idle.pop() ?? new Worker(this.#url);
    const id = ++this.#next;
    let settle!: (v: unknown) => void;
    let fail!: (e: unknown) => void;
    const done = new Promise((resolve, reject) => ((settle = resolve), (fail = reject)));
    const cleanup = (): void => {
      worker.removeEventListener('message', onMessage);
      worker.removeEventListener('error', onError);
    };
    const onError = (e: ErrorEvent): void => {
      cleanup();
      worker.terminate();
      fail(new RingBufferStateError(`the Atomics.wait helper worker failed: ${e.message}`, 'ERR_RINGBUF_NO_WAIT'));
    };
    const onMessage = (e: MessageEvent<{ id: number; result: string }>): void => {
      if (e.data.id !== id) return;
      cleanup();
      this.#idle.push(worker);
      settle(e.data.result);
    };
    worker.addEventListener('message', onMessage);
    worker.addEventListener('error', onError);
    worker.postMessage({ i32, index, timeout: ms, id });
    return {
      done,
      cancel: () => {
        cleanup();
        worker.terminate();
        settle('closed');
      },
    };
  }
}

let waiters: BlockingWaiters | undefined;

/**
 * @internal
 * Sleeps until a producer wakes any of these WAIT words (clears it from 1 and
 * notifies) or `ms` pass: in `Atomics.waitAsync` on all of them at once, or,
 * where a browser lacks it, in helper workers blocked in `Atomics.wait` (their
 * cancels go to `inFlight` while they wait). Only the consumer of a ring waits
 * on its WAIT word.
 */
export async function sleepOnWaitWords(
  words: readonly { i32: Int32Array; index: number }[],
  ms: number,
  inFlight?: Set<() => void>,
): Promise<void> {
  const waits: Promise<unknown>[] = [];
  for (const { i32, index } of words) {
    if (typeof Atomics.waitAsync !== 'function') {
      const w = (waiters ??= new BlockingWaiters()).wait(i32, index, ms);
      inFlight?.add(w.cancel);
      waits.push(w.done.finally(() => inFlight?.delete(w.cancel)));
      continue;
    }
    // pairs with the xchg of WAIT and the notify in wake() (assembly/ring.ts)
    const w = Atomics.waitAsync(i32, index, 1, ms === Infinity ? undefined : ms);
    if (!w.async) {
      // WAIT already cleared: a wakeup came first; settle the waits begun on earlier words
      if (waits.length > 0) for (const word of words) Atomics.notify(word.i32, word.index);
      return;
    }
    waits.push(w.value);
  }
  // Node does not count a pending waitAsync as work: hold the event loop open while asleep.
  const keepAlive = setInterval(noop, 2 ** 30);
  try {
    await Promise.race(waits);
  } finally {
    clearInterval(keepAlive);
    // settle the waits on the words that did not fire
    if (words.length > 1) for (const { i32, index } of words) Atomics.notify(i32, index);
  }
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

function corrupt(pos: number, what: string): RingBufferCorruptError {
  return new RingBufferCorruptError(
    `ring corrupted at position ${pos}: ${what}. The shared memory was written outside the ring API; ` +
      'the consumer stopped before reading past it.',
    'ERR_RINGBUF_CORRUPT',
    pos,
  );
}
