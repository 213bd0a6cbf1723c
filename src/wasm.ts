// Compiles the ring's wasm module once per thread and instantiates it over a
// ring's shared memory, with the plain WebAssembly API: the module is built
// with raw bindings (every export takes and returns numbers), so it needs no
// loader and the package has no runtime dependency.
import * as L from './generated/layout.js';
import { STAGE_BYTES, STAGE_IDS, stagingBase } from './layout.js';
import { WASM_BASE64 } from './generated/wasm-binary.js';

/** One word to wait on: `i32[index]`. */
export interface WaitWord {
  readonly i32: Int32Array;
  readonly index: number;
}

/**
 * The exports of assembly/index.ts (the protocol; doc comments there).
 * Positions cross the boundary as f64, exact below 2^53; booleans as 0 or 1.
 */
export interface RingWasm extends Record<string, unknown> {
  init(ctl: number, size: number, maxRecord: number, flags: number, start: number): void;
  /** A free id with its generation, `id | gen << 16` (the `who` of reserve and commit); id 0: none free. */
  acquireId(ctl: number): number;
  releaseId(ctl: number, id: number): void;
  /** `who`: id | gen << 16; `opts`: RESERVE_CAN_BLOCK | RESERVE_QUIET. REVOKED: the producer was reaped. */
  reserve(ctl: number, len: number, who: number, opts: number): number;
  /** output() in one call on a single-producer ring: the payload is already at `sample` (0: reserve the usual way). */
  outputAt(ctl: number, sample: number, len: number, who: number, flags: number): number;
  /** `from`: the staging bytes to copy the payload from first (0: none). COMMIT_REVOKED: the producer was reaped. */
  commit(ctl: number, sample: number, flags: number, discard: number, from: number, who: number): number;
  wake(ctl: number, force: number): number;
  query(ctl: number, key: number): number;
  producerPos(ctl: number): number;
  /** `room`: also wake the producers waiting for room. */
  advanceConsumer(ctl: number, from: number, to: number, drops: number, room: number): number;
  reap(ctl: number, id: number, self: number, canBlock: number): number;
  /** A producer that waits for room announces itself (ROOM_WAITERS and its id's bit); returns ROOM_SEQ. */
  roomAnnounce(ctl: number, id: number): number;
  roomLeave(ctl: number, id: number): void;
  producerCounter(ctl: number, id: number, which: number): number;
  countRefusal(ctl: number, id: number): void;
  /** The u64 counter at an OFF_* offset of the control block. */
  counter(ctl: number, offset: number): number;
}

let compiled: Promise<WebAssembly.Module> | undefined;

function decode(base64: string): Uint8Array<ArrayBuffer> {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/** The compiled module, shared by every ring this thread creates. */
export function compileModule(): Promise<WebAssembly.Module> {
  compiled ??= WebAssembly.compile(decode(WASM_BASE64));
  return compiled;
}

/** Instantiates `module` over `memory` (both may have come from another thread). */
export async function instantiateRing(module: WebAssembly.Module, memory: WebAssembly.Memory): Promise<RingWasm> {
  // the release build imports the memory alone (scripts/check-wasm.mjs)
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  return instance.exports as unknown as RingWasm;
}

/**
 * Whether this thread may block in Atomics.wait: false on a browser page's
 * main thread, where producers spin on a held lock instead of sleeping.
 */
export const canBlock: boolean = (() => {
  const g = globalThis as { window?: unknown; document?: unknown };
  return !(typeof g.window === 'object' && typeof g.document === 'object');
})();

/**
 * @internal
 * One ring's control block and data area as this thread reaches them: the
 * one owner of the wasm instance and of the control words. Every other
 * module goes through these named operations (assembly/layout.ts draws the
 * words; assembly/ring.ts holds the protocol steps they call).
 */
export class RingCore {
  readonly wasm: RingWasm;
  readonly memory: WebAssembly.Memory;
  readonly ctl: number;
  /** Where the data area starts in `bytes`, its size and the largest payload. */
  readonly data: number;
  readonly size: number;
  readonly maxRecord: number;
  readonly overwrite: boolean;
  /** A single-producer ring in no other mode: output() writes the payload first (outputAt()). */
  readonly single: boolean;
  /** The whole shared memory, as bytes and as words; `memory.buffer`, read once (the memory never grows). */
  readonly bytes: Uint8Array;
  readonly i32: Int32Array;
  readonly buffer: ArrayBufferLike;
  readonly #u64: BigInt64Array;
  /** `i32` indexes of the words read most. */
  readonly #wait: number;
  readonly #prod: number;
  readonly #seen: number;
  /** The consumer's own f64 words (consumerWords). */
  readonly #own: Float64Array;

  constructor(wasm: RingWasm, memory: WebAssembly.Memory, ctl: number) {
    this.wasm = wasm;
    this.memory = memory;
    this.ctl = ctl;
    this.buffer = memory.buffer;
    this.bytes = new Uint8Array(this.buffer);
    this.i32 = new Int32Array(this.buffer);
    this.#u64 = new BigInt64Array(this.buffer);
    const word = (off: number): number => this.i32[(ctl + off) >> 2]! >>> 0;
    this.data = ctl + L.DATA_OFFSET;
    this.size = word(L.OFF_SIZE);
    this.maxRecord = word(L.OFF_MAX_RECORD);
    this.overwrite = (word(L.OFF_FLAGS) & L.FLAG_OVERWRITE) !== 0;
    this.single = word(L.OFF_FLAGS) === L.FLAG_SINGLE;
    this.#wait = (ctl + L.OFF_WAIT) >> 2;
    this.#prod = (ctl + L.OFF_PRODUCER_POS) >> 2;
    this.#seen = (ctl + L.OFF_CONS_SEEN) >> 2;
    this.#own = new Float64Array(this.buffer, ctl + L.OFF_CONSUMER_OVERWRITTEN, 3);
  }

  // ---- producers ----------------------------------------------------------

  /**
   * [F1] [R1..R8] The payload offset of a new `len`-byte reservation by
   * producer `who` (id | gen << 16), 0 when there is no room, or REVOKED
   * when that producer was reaped.
   */
  reserve(len: number, who: number, opts: number): number {
    return this.wasm.reserve(this.ctl, len, who, opts);
  }

  /**
   * [F2] [K1..K3] Commits the reservation at `offset` of producer `who`, its
   * payload first copied from `from` if not 0; returns 1 when it sent a
   * wakeup, or has COMMIT_REVOKED set, having written nothing, when that
   * producer was reaped.
   */
  commit(offset: number, flags: number, discard: number, who: number, from = 0): number {
    return this.wasm.commit(this.ctl, offset, flags, discard, from, who);
  }

  /** Producer `id`'s staging bytes (src/layout.ts), or 0 when it has none. */
  stagingAt(id: number): number {
    const at = stagingBase(this.ctl, this.size, this.maxRecord) + id * STAGE_BYTES;
    return id > 0 && id < STAGE_IDS && at + STAGE_BYTES <= this.bytes.length ? at : 0;
  }

  /**
   * [U1] On a single-producer ring, where the payload of a `len`-byte record
   * reserved now would start, if CONS_SEEN (which only lags CONSUMER_POS)
   * shows room for it: space past PRODUCER_POS that only this producer writes
   * and the consumer does not read. 0 when space looks short: then reserve()
   * looks at CONSUMER_POS itself. Plain loads: on this ring only its producer
   * writes these words, on this thread, or on one that handed the ring over
   * through something that orders the two (a postMessage, a worker's end).
   * The low words alone: every difference of positions here is below 2^32.
   */
  nextPayload(len: number): number {
    const prod = this.i32[this.#prod]!;
    const mask = this.size - 1;
    if ((prod + ((len + L.HDR_SIZE + 7) & ~7) - this.i32[this.#seen]!) >>> 0 > mask) return 0;
    return this.data + (prod & mask) + L.HDR_SIZE;
  }

  /** [U2..U4] output() in one call: the payload is already at `offset` (0: reserve the usual way). */
  outputAt(offset: number, len: number, who: number, flags: number): number {
    return this.wasm.outputAt(this.ctl, offset, len, who, flags);
  }

  /** Whether `who` (id | gen << 16) is its id's generation still: false once that producer was reaped. */
  current(who: number): boolean {
    const id = who & 0xffff;
    const word = Atomics.load(this.i32, ((this.ctl + L.OFF_GENS) >> 2) + (id >> 1));
    return ((word >>> ((id & 1) << 4)) & 0xffff) === who >>> 16;
  }

  /** Whether `offset` is the payload of a reservation still pending (BUSY) in this ring. */
  isPending(offset: number): boolean {
    const hdr = offset - L.HDR_SIZE;
    // BUSY reads as a negative int32; anything else was never reserved or is committed already
    const word = this.i32[hdr >> 2]!;
    return (
      hdr >= this.data &&
      hdr < this.data + this.size &&
      (hdr & 7) === 0 &&
      word < 0 &&
      (word & L.LEN_MASK) <= this.maxRecord
    );
  }

  /** [Q1] [Q2] A producer announces that it waits for room; returns ROOM_SEQ, to wait on. */
  roomAnnounce(id: number): number {
    return this.wasm.roomAnnounce(this.ctl, id);
  }

  /** [Q5] The end of that announcement. */
  roomLeave(id: number): void {
    this.wasm.roomLeave(this.ctl, id);
  }

  /** The word producers waiting for room sleep on (ROOM_SEQ). */
  get roomWord(): WaitWord {
    return { i32: this.i32, index: (this.ctl + L.OFF_ROOM_SEQ) >> 2 };
  }

  countRoomWait(): void {
    Atomics.add(this.#u64, (this.ctl + L.OFF_ROOM_WAITS) >> 3, 1n);
  }

  countRefusal(id: number): void {
    this.wasm.countRefusal(this.ctl, id);
  }

  wake(force: number): number {
    return this.wasm.wake(this.ctl, force);
  }

  // ---- the consumer -------------------------------------------------------

  /** [T3] Takes the ring's consumer token; false when another consumer holds it. */
  takeConsumer(token: number): boolean {
    return Atomics.compareExchange(this.i32, (this.ctl + L.OFF_CONSUMER) >> 2, 0, token) === 0;
  }

  /** [T2] Gives the token back (release: pairs with takeConsumer() in the next consumer). */
  releaseConsumer(token: number): void {
    Atomics.compareExchange(this.i32, (this.ctl + L.OFF_CONSUMER) >> 2, token, 0);
  }

  /** Frees the token whoever holds it; whether someone did. */
  reapConsumer(): boolean {
    // overwrite mode: the dead consumer's claims are final, and the next consumer starts at CONSUMER_POS
    if (this.overwrite) this.#own[2] = this.consumerPos();
    return Atomics.exchange(this.i32, (this.ctl + L.OFF_CONSUMER) >> 2, 0) !== 0;
  }

  /**
   * The f64 words of the control block that the consumer owns (only the
   * token's holder writes them): CONSUMER_OVERWRITTEN [0], OVERWRITTEN as the
   * consumer has reported it (overwrite mode); CONSUMER_CARRY [1], losses a
   * consumer left unreported when it gave the ring up; CONSUMER_LAST [2], the
   * position it had read to then (overwrite mode).
   */
  get consumerWords(): Float64Array {
    return this.#own;
  }

  /** The DROPPED snapshot stored with the consumer position. */
  consumerDrops(): number {
    return this.i32[(this.ctl + L.OFF_CONSUMER_DROPS) >> 2]! & L.DROPS_MASK;
  }

  /** [D1] acquire: pairs with the PRODUCER_POS store in reserveLocked(). */
  producerPos(): number {
    return this.wasm.producerPos(this.ctl);
  }

  consumerPos(): number {
    return this.wasm.query(this.ctl, L.BPF_RB_CONS_POS);
  }

  overwritePos(): number {
    return this.wasm.query(this.ctl, L.BPF_RB_OVERWRITE_POS);
  }

  /** [D2] The header word at position `pos` (acquire: pairs with the header exchange in commit()). */
  header(pos: number): number {
    return Atomics.load(this.i32, (this.data + (pos & (this.size - 1))) >> 2);
  }

  /** [D4] [D7] CONSUMER_POS from `from` to `to` by compare-and-swap, then the room look; false if it was not `from`. */
  advance(from: number, to: number, drops: number, room: boolean): boolean {
    return this.wasm.advanceConsumer(this.ctl, from, to, drops, room ? 1 : 0) !== 0;
  }

  /** [A1] [N1] [S2] The consumer's WAIT word (it alone sets it other than to AWAKE). */
  setWait(state: number): void {
    Atomics.store(this.i32, this.#wait, state);
  }

  /** WAIT as a producer reads it before a wakeup (pairs with the consumer's WAIT store before its last look). */
  waitState(): number {
    return Atomics.load(this.i32, this.#wait);
  }

  get waitWord(): WaitWord {
    return { i32: this.i32, index: this.#wait };
  }

  // ---- the map's surface --------------------------------------------------

  query(key: number): number {
    return this.wasm.query(this.ctl, key);
  }

  /** The u64 counter at an OFF_* offset of the control block. */
  counter(offset: number): number {
    return this.wasm.counter(this.ctl, offset);
  }

  producerCounter(id: number, which: number): number {
    return this.wasm.producerCounter(this.ctl, id, which);
  }

  acquireId(): number {
    return this.wasm.acquireId(this.ctl);
  }

  releaseId(id: number): void {
    this.wasm.releaseId(this.ctl, id);
  }

  idInUse(id: number): boolean {
    return ((Atomics.load(this.i32, ((this.ctl + L.OFF_IDS) >> 2) + (id >>> 5)) >>> (id & 31)) & 1) === 1;
  }

  /** [G1]–[G8] reapProducer(): the number of records discarded, with REAP_LOCK_RECOVERED. */
  reap(id: number, self: number, canBlock: number): number {
    return this.wasm.reap(this.ctl, id, self, canBlock) >>> 0;
  }

  /** Overwrite mode: OVERWRITTEN, the records moves passed. */
  overwritten(): number {
    return this.wasm.counter(this.ctl, L.OFF_OVERWRITTEN);
  }

  /** Sleeps until the lock word changes, at most `ms` (a thread that may block). */
  waitForLock(ms: number): void {
    const at = (this.ctl + L.OFF_LOCK) >> 2;
    const v = Atomics.load(this.i32, at);
    if (v !== 0) Atomics.wait(this.i32, at, v, ms);
  }

  /** The producer id holding the lock, or 0. */
  lockHolder(): number {
    const v = Atomics.load(this.i32, (this.ctl + L.OFF_LOCK) >> 2);
    return v === 0 ? 0 : v & 0xfff;
  }
}
