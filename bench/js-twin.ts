// A plain-JavaScript twin of the wasm-ringbuf protocol (assembly/ring.ts,
// assembly/lock.ts, src/cursor.ts) over one SharedArrayBuffer with
// Int32Array and Atomics, for the benchmarks only: it shows what the wasm core
// buys or costs. Same steps, same barriers, same wakeup rule:
//
// - reserve: CONSUMER_POS read outside the lock; a futex lock that spins
//   LOCK_SPINS times and then sleeps (Drepper's mutex, without the owner id);
//   PENDING_POS walked past committed records, lazily (from half a ring
//   behind, WALK_STRETCH records at a time, all the way before a refusal);
//   header written BUSY, then PRODUCER_POS published, on the lock's line.
//   No room: 0, counted in DROPPED.
// - commit: the header swapped with Atomics.exchange (a full barrier), then
//   the kernel's adaptive rule: wake only when CONSUMER_POS is this record's.
// - consume: PRODUCER_POS read, headers walked, stop at BUSY, skip DISCARD,
//   CONSUMER_POS stored once per pass; poll() arms WAIT, looks again, sleeps.
//
// Departures from the wasm ring, all for simplicity: positions are 32-bit
// counters that wrap (every comparison is a difference, as in a 32-bit
// kernel, whose positions are unsigned long), header word 1 holds only the
// DROPPED snapshot, there is no producer table, overwrite mode, claim mode or
// reaping of dead producers.
//
//  byte    0 ┌ line 0: LOCK i32 │ PENDING_POS i32 │ DROPPED i32 ┐ (producers, under the lock;
//            │ PRODUCER_POS i32                                  │  the consumer reads PRODUCER_POS)
//  byte   64 ├ line 1: unused                                    ┤
//  byte  128 ├ line 2: CONSUMER_POS i32                          ┤ (consumer writes, producers read)
//  byte  192 ├ line 3: WAIT i32, 1 while the consumer may sleep  ┤
//  byte  256 ├ line 4: WAKEUPS i32 │ LOCK_WAITS i32              ┤
//  byte  512 ├ data area: SIZE bytes, then an overhang of        ┤
//            │ stride(maxRecord) bytes so every record is contiguous
//            └───────────────────────────────────────────────────┘

/** Word indexes of the control block (byte offset / 4). */
const LOCK = 0;
const PENDING = 1;
const DROPPED = 2;
const PROD = 3;
const CONS = 32;
const WAIT = 48;
const WAKEUPS = 64;
const LOCK_WAITS = 65;
/** Byte offset of the data area. */
const DATA = 512;

const BUSY = 1 << 31; // header word 0, bit 31: reserved, not yet committed
const DISCARD = 1 << 30;
const LEN_MASK = 0x3fffffff;
const NO_WAKEUP = 1; // BPF_RB_NO_WAKEUP
const FORCE_WAKEUP = 2; // BPF_RB_FORCE_WAKEUP
const LOCK_SPINS = 4096; // as assembly/layout.ts
const WALK_STRETCH = 32; // as assembly/layout.ts

function stride(len: number): number {
  return (len + 15) & ~7;
}

/** What `JsRing.handle` returns: structured-cloneable. */
export interface JsRingHandle {
  readonly kind: 'js-twin';
  readonly sab: SharedArrayBuffer;
  readonly size: number;
  readonly maxRecord: number;
}

/** Counters of a twin ring. */
export interface JsRingStats {
  dropped: number;
  wakeups: number;
  lockWaits: number;
}

/** One ring of the twin: the producer side (any thread) and the state the consumer reads. */
export class JsRing {
  readonly sab: SharedArrayBuffer;
  readonly i32: Int32Array;
  /** The whole buffer as bytes: payloads live at the offsets reserveRaw() returns. */
  readonly bytes: Uint8Array;
  readonly size: number;
  readonly mask: number;
  readonly maxRecord: number;

  private constructor(sab: SharedArrayBuffer, size: number, maxRecord: number) {
    this.sab = sab;
    this.i32 = new Int32Array(sab);
    this.bytes = new Uint8Array(sab);
    this.size = size;
    this.mask = size - 1;
    this.maxRecord = maxRecord;
  }

  /** A ring of `size` bytes (a power of two from 4096 to 2^30); payloads up to `maxRecord`. */
  static create(size: number, maxRecord = size - 16): JsRing {
    if (!(Number.isInteger(size) && size >= 4096 && size <= 2 ** 30 && (size & (size - 1)) === 0)) {
      throw new RangeError(`size must be a power of two from 4096 to 2^30; got ${size}`);
    }
    if (!(Number.isInteger(maxRecord) && maxRecord >= 0 && maxRecord <= size - 16)) {
      throw new RangeError(`maxRecord must be an integer from 0 to size - 16 (${size - 16}); got ${maxRecord}`);
    }
    return new JsRing(new SharedArrayBuffer(DATA + size + stride(maxRecord)), size, maxRecord);
  }

  /** The same ring in another thread (one that may block: the lock sleeps in Atomics.wait). */
  static attach(handle: JsRingHandle): JsRing {
    if (handle?.kind !== 'js-twin' || !(handle.sab instanceof SharedArrayBuffer)) throw new TypeError('not a JsRing handle: pass ring.handle');
    return new JsRing(handle.sab, handle.size, handle.maxRecord);
  }

  get handle(): JsRingHandle {
    return { kind: 'js-twin', sab: this.sab, size: this.size, maxRecord: this.maxRecord };
  }

  /**
   * bpf_ringbuf_reserve(): the byte offset of a `len`-byte payload in
   * `bytes`, or 0 when there is no room now (counted in DROPPED).
   */
  reserveRaw(len: number): number {
    if (!((len >>> 0) === len && len <= this.maxRecord)) throw new RangeError(`len must be an integer from 0 to ${this.maxRecord}; got ${len}`);
    const { i32, mask } = this;
    // read outside the lock, as the kernel does; pairs with the CONS store in JsRingConsumer.#pass()
    const cons = Atomics.load(i32, CONS);
    if (Atomics.compareExchange(i32, LOCK, 0, 1) !== 0) this.#lockSlow();
    const prod = i32[PROD]!; // written only under the lock
    const next = (prod + stride(len)) | 0;
    // walk PENDING_POS past committed records, lazily: never run over a BUSY one
    let pend = i32[PENDING]!;
    if (((next - pend) | 0) > mask >> 1) {
      for (let n = 0; pend !== prod && (n < WALK_STRETCH || ((next - pend) | 0) > mask); n++) {
        const hdr = Atomics.load(i32, (DATA + (pend & mask)) >> 2); // pairs with the exchange in commitRaw()
        if (hdr < 0) break;
        pend = (pend + stride(hdr & LEN_MASK)) | 0;
      }
      i32[PENDING] = pend;
    }
    const dropped = i32[DROPPED]!;
    if (((next - pend) | 0) > mask || ((next - cons) | 0) > mask) {
      i32[DROPPED] = dropped + 1;
      this.#unlock();
      return 0;
    }
    const h = (DATA + (prod & mask)) >> 2;
    i32[h + 1] = dropped;
    i32[h] = len | BUSY;
    // release: the header is in place before the consumer sees the position; pairs with the PROD load in #pass()
    Atomics.store(i32, PROD, next);
    this.#unlock();
    return (h << 2) + 8;
  }

  /** bpf_ringbuf_submit() for an offset from reserveRaw(). */
  submitRaw(offset: number, flags = 0): void {
    this.#commit(offset, flags, false);
  }

  /** bpf_ringbuf_discard() for an offset from reserveRaw(). */
  discardRaw(offset: number, flags = 0): void {
    this.#commit(offset, flags, true);
  }

  stats(): JsRingStats {
    const { i32 } = this;
    return { dropped: Atomics.load(i32, DROPPED), wakeups: Atomics.load(i32, WAKEUPS), lockWaits: Atomics.load(i32, LOCK_WAITS) };
  }

  #commit(offset: number, flags: number, discard: boolean): void {
    const { i32 } = this;
    const h = (offset - 8) >> 2;
    const word = i32[h]!;
    if (!(word < 0 && offset >= DATA + 8 && offset < DATA + 8 + this.size)) throw new Error(`offset ${offset} is not a pending reservation`);
    const len = word & LEN_MASK;
    // A full barrier, not a release store: the CONS load below must not move
    // before it (pairs with the header load in #pass() and the WAIT store in #arm()).
    Atomics.exchange(i32, h, discard ? len | DISCARD : len);
    if ((flags & NO_WAKEUP) !== 0) return;
    // the consumer has caught up with this record and may be asleep
    if ((flags & FORCE_WAKEUP) === 0 && (Atomics.load(i32, CONS) & this.mask) !== offset - 8 - DATA) return;
    // pairs with the WAIT store in JsRingConsumer.#arm()
    if (Atomics.load(i32, WAIT) === 0 || Atomics.exchange(i32, WAIT, 0) === 0) return;
    Atomics.add(i32, WAKEUPS, 1);
    Atomics.notify(i32, WAIT); // pairs with the waitAsync on WAIT in poll()
  }

  #lockSlow(): void {
    const { i32 } = this;
    for (let i = 0; i < LOCK_SPINS; i++) {
      if (Atomics.load(i32, LOCK) === 0 && Atomics.compareExchange(i32, LOCK, 0, 1) === 0) return;
    }
    Atomics.add(i32, LOCK_WAITS, 1);
    // Drepper's mutex: 2 = held, a waiter may sleep
    while (Atomics.exchange(i32, LOCK, 2) !== 0) {
      Atomics.wait(i32, LOCK, 2); // pairs with the notify in #unlock()
    }
  }

  #unlock(): void {
    // full barrier: the header and PROD stores are visible before the lock is free
    if (Atomics.exchange(this.i32, LOCK, 0) === 2) Atomics.notify(this.i32, LOCK, 1);
  }
}

/** The consumer callback: the payload is `bytes[offset .. offset + length)`, valid during the call. */
export type JsRawCallback = (bytes: Uint8Array, offset: number, length: number) => void;

const noop = (): void => {};

/** The consumer of one twin ring (libbpf ring_buffer__consume/__poll). */
export class JsRingConsumer {
  readonly ring: JsRing;
  readonly #cb: JsRawCallback;
  #cons: number;

  constructor(ring: JsRing, cb: JsRawCallback) {
    this.ring = ring;
    this.#cb = cb;
    this.#cons = Atomics.load(ring.i32, CONS);
  }

  /** Hands every committed record to the callback; returns how many. */
  consume(): number {
    let total = 0;
    for (;;) {
      const n = this.#pass();
      if (n === 0) return total;
      total += n;
    }
  }

  /** Consumes; if nothing was there, sleeps (Atomics.waitAsync) until a wakeup or `timeoutMs` (-1: no end). */
  async poll(timeoutMs = -1): Promise<number> {
    let n = this.consume();
    if (n !== 0 || timeoutMs === 0) return n;
    if (this.#arm()) {
      const w = Atomics.waitAsync(this.ring.i32, WAIT, 1, timeoutMs < 0 ? undefined : timeoutMs);
      if (w.async) {
        const keepAlive = setInterval(noop, 2 ** 30); // a pending waitAsync does not hold Node's event loop
        try {
          await w.value;
        } finally {
          clearInterval(keepAlive);
        }
      }
      Atomics.store(this.ring.i32, WAIT, 0);
    }
    n = this.consume();
    return n;
  }

  /** Announces sleep (WAIT = 1), then looks once more: true when the caller may sleep. */
  #arm(): boolean {
    const { i32, mask } = this.ring;
    // Dekker with #commit(): our WAIT store before the header load, its header exchange before the WAIT load
    Atomics.store(i32, WAIT, 1);
    if (this.#cons !== Atomics.load(i32, PROD) && Atomics.load(i32, (DATA + (this.#cons & mask)) >> 2) >= 0) {
      Atomics.store(i32, WAIT, 0);
      return false;
    }
    return true;
  }

  /** One walk from CONSUMER_POS to PRODUCER_POS, stopping at a BUSY record. */
  #pass(): number {
    const { i32, bytes, mask } = this.ring;
    const cb = this.#cb;
    // acquire: pairs with the PROD store in reserveRaw()
    const prod = Atomics.load(i32, PROD);
    let cons = this.#cons;
    let count = 0;
    while (cons !== prod) {
      const off = DATA + (cons & mask);
      const hdr = Atomics.load(i32, off >> 2); // acquire: pairs with the exchange in #commit()
      if (hdr < 0) break;
      const len = hdr & LEN_MASK;
      cons = (cons + stride(len)) | 0;
      if ((hdr & DISCARD) !== 0) continue;
      count++;
      cb(bytes, off + 8, len);
    }
    if (cons !== this.#cons) {
      this.#cons = cons;
      // release: pairs with the CONS loads in reserveRaw() and #commit()
      Atomics.store(i32, CONS, cons);
    }
    return count;
  }
}
