// How consumers wait, in one place: the announce-then-look sleep (arm, the
// second look, disarm) [A1]–[A5], the nap that moderates wakeups, and the
// poll loops (async and blocking), over the wait that does not block the
// thread (src/wait-async.ts). Every consumer's Waiter is here; poll(),
// pollSync() and close() on top of it are in src/consumer.ts.
//
// Wakeup moderation (the NAPI / interrupt-coalescing idea): a consumer that
// keeps up would otherwise sleep between records, so that nearly every
// commit pays for a wakeup exactly when the system is healthy. After a pass
// that delivered records, the next poll does not arm: it naps for its
// latency budget with WAIT = NAPPING (which adaptive commits leave alone and
// BPF_RB_FORCE_WAKEUP ends), then drains. Only a pass that finds nothing
// arms (WAIT = ARMED) and sleeps until a producer's wakeup. A nap never
// lasts long enough for the ring to fill past a quarter at the rate the last
// pass saw, and the budget 0 gives the kernel's exact behaviour.
//
// As interrupt coalescing does, a consumer naps only when records come fast
// (NAP_RATE, at the rate of the last ~10 ms): at a few thousand records a
// second a wakeup per record costs producers little and a nap would only add
// latency, so the consumer arms. And it naps only after a pass that found
// more than one record: a record that came alone (request/response, where
// the next record waits for the answer to this one) would only wait out the
// nap, so the consumer arms and the next record's commit wakes it at once.

import {
  RingBufferRangeError,
  RingBufferStateError,
  RingBufferTypeError,
  cannotBlockError,
  checkSignal,
  checkTimeout,
  closedError,
  describeValue,
} from './errors.js';
import { WAIT_ARMED, WAIT_AWAKE, WAIT_NAPPING } from './layout.js';
import type { RingWalk } from './walk.js';
import { startWait, type Waiting } from './wait-async.js';
import { canBlock, type WaitWord } from './wasm.js';

/** The default latency budget of a nap, in milliseconds. */
export const DEFAULT_NAP_MS = 1;
/** Shorter naps are not taken: the ring fills too fast for one to pay. */
const MIN_NAP_MS = 0.05;
/** A nap ends before the ring can fill past this fraction at the last pass's rate. */
const NAP_FILL = 0.25;
/** Naps are taken only while records come at least this fast (records per millisecond: 4,000 a second). */
const NAP_RATE = 4;
/** The time constant of the recent rate, in milliseconds. */
const RATE_MS = 10;
/** The weight of each nap in the estimate of how late a timeout fires. */
const LATE_GAIN = 0.25;

/** Options of every consumer: how it waits. */
export interface WaitOptions {
  /**
   * Wakeup moderation: after a pass that delivered more than one record,
   * while records come fast, the next `poll()` naps up to this many
   * milliseconds and drains, instead of asking producers to wake it per
   * record (default 1; a nap is cut short so that a ring never fills past a
   * quarter meanwhile, and by `BPF_RB_FORCE_WAKEUP`). It bounds the latency
   * a record may wait while the consumer is busy; a record that comes alone
   * is delivered at once. 0 is the kernel's exact behaviour: arm after every pass.
   */
  napMs?: number;
}

/** Options of `poll()`. */
export interface PollOptions {
  /** Ends the wait: `poll()` rejects with the signal's reason (an `AbortError`). */
  signal?: AbortSignal;
}

/** @internal Checks the wait options shared by every consumer; returns the nap budget. */
export function napOption(options: WaitOptions | undefined): number {
  if (options === undefined) return DEFAULT_NAP_MS;
  if (options === null || typeof options !== 'object')
    throw new RingBufferTypeError(
      `options must be an object such as { napMs: 1 }; got ${describeValue(options)}`,
      'ERR_RINGBUF_TYPE',
    );
  const { napMs = DEFAULT_NAP_MS } = options;
  if (typeof napMs !== 'number')
    throw new RingBufferTypeError(`napMs must be a number; got ${describeValue(napMs)}`, 'ERR_RINGBUF_TYPE');
  if (!(napMs >= 0 && napMs <= 60_000)) {
    throw new RingBufferRangeError(
      `napMs must be from 0 to 60000 milliseconds; got ${napMs}. Use 1 (the default) or 0 to arm after every pass.`,
      'ERR_RINGBUF_RANGE',
    );
  }
  return napMs;
}

/** @internal Checks poll()'s arguments. */
export function pollArgs(timeoutMs: unknown, options: PollOptions | undefined): AbortSignal | undefined {
  checkTimeout(timeoutMs);
  if (options === undefined) return undefined;
  if (options === null || typeof options !== 'object')
    throw new RingBufferTypeError(
      `poll() options must be an object such as { signal }; got ${describeValue(options)}`,
      'ERR_RINGBUF_TYPE',
    );
  checkSignal(options.signal);
  return options.signal;
}

/** @internal pollSync() waits on one WAIT word: Atomics.wait cannot wait on several. */
export function checkOneRing(rings: number): void {
  if (rings > 1) {
    throw new RingBufferStateError(
      `pollSync() waits on exactly one ring (Atomics.wait takes one word); this consumer has ${rings}. ` +
        'Use poll() for several rings.',
      'ERR_RINGBUF_POLL',
    );
  }
}

/** @internal What a Waiter needs of its consumer. */
export interface WaitTarget {
  /** The consumer's rings (a live list: rings may be added). */
  readonly walks: readonly RingWalk[];
  /** One pass over every ring: records delivered, or a callback's negative number. */
  consume(): number;
  /** The second look, after WAIT is set: whether a pass could deliver now. */
  ready(): boolean;
}

/** @internal The waiting of one consumer. */
export class Waiter {
  readonly #target: WaitTarget;
  readonly #napMs: number;
  /** Records delivered per millisecond, recently (an exponential average over RATE_MS). */
  #rate = 0;
  readonly #cancels = new Set<() => void>();
  #polling = false;
  #closed = false;
  /** How late a nap's timeout has fired, recently (ms): the next nap asks for that much less. */
  #late = 0;
  /** The last pass delivered more than one record: the next poll naps instead of arming. */
  #busy = false;
  /** When the last pass ended, and the largest fraction of a ring it consumed per millisecond before it. */
  #passAt = 0;
  #fillPerMs = 0;

  constructor(target: WaitTarget, napMs: number) {
    this.#target = target;
    this.#napMs = napMs;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Throws when the consumer is closed. */
  check(): void {
    if (this.#closed) throw closedError('consumer', 'create a new consumer for its rings');
  }

  /** ring_buffer__poll(): see RingBufferConsumer.poll(). */
  async poll(timeoutMs: number, signal?: AbortSignal): Promise<number> {
    this.#enter();
    const onAbort = (): void => this.#interrupt();
    // the wait in flight: ended after the pass that follows it, so that its clean-up is not in the wakeup's path
    let wait: Waiting | null = null;
    try {
      signal?.throwIfAborted();
      signal?.addEventListener('abort', onAbort);
      // a waitAsync timeout below about half a millisecond returns at once (Node 20): it would spin
      if (timeoutMs > 0 && timeoutMs < 1) timeoutMs = 1;
      const deadline = timeoutMs < 0 ? Infinity : performance.now() + timeoutMs;
      const nap = this.#napNow(deadline, timeoutMs);
      if (nap > 0) {
        // a timer wakes late by the engine's granularity (Deno: 1 ms more, measured): ask for that much
        // less, down to half the nap (below that, Node's timeout fires at once or at its 1 ms tick)
        const ask = Math.max(nap / 2, nap - this.#late);
        const from = performance.now();
        wait = this.#beginSleep(WAIT_NAPPING, ask);
        if (wait !== null && (await wait.done) === 'timed-out') {
          this.#late += (performance.now() - from - ask - this.#late) * LATE_GAIN;
        }
        this.#disarm();
        if (this.#stopped(signal)) return 0;
      }
      let n = this.#pass();
      if (n !== 0 || timeoutMs === 0) return n;
      for (;;) {
        wait?.end();
        wait = null;
        const left = deadline - performance.now();
        if (left <= 0) return 0;
        if (this.#arm()) {
          wait = this.#beginSleep(WAIT_ARMED, left);
          if (wait !== null) await wait.done;
          this.#disarm();
        }
        if (this.#stopped(signal)) return 0;
        n = this.#pass();
        if (n !== 0) return n;
      }
    } catch (err) {
      this.#disarm(); // a wait that failed or could not begin, or an abort: leave WAIT awake
      throw err;
    } finally {
      wait?.end();
      this.#polling = false;
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** The blocking form of poll(), for workers and Node's main thread. */
  pollSync(timeoutMs: number): number {
    if (!canBlock) throw cannotBlockError('pollSync()', 'await poll()');
    this.#enter();
    try {
      const deadline = timeoutMs < 0 ? Infinity : performance.now() + timeoutMs;
      const nap = this.#napNow(deadline, timeoutMs);
      if (nap > 0) {
        this.#sleepSync(WAIT_NAPPING, nap);
        if (this.#closed) return 0;
      }
      let n = this.#pass();
      if (n !== 0 || timeoutMs === 0) return n;
      for (;;) {
        const left = deadline - performance.now();
        if (left <= 0) return 0;
        if (this.#arm()) this.#sleepSync(WAIT_ARMED, left);
        if (this.#closed) return 0;
        n = this.#pass();
        if (n !== 0) return n;
      }
    } finally {
      this.#polling = false;
    }
  }

  /** Ends a pending poll (it returns 0) and every wait it started; the consumer is closed. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#interrupt();
  }

  #enter(): void {
    this.check();
    if (this.#polling) {
      throw new RingBufferStateError(
        'a poll() is already pending on this consumer: await it before polling again ' +
          '(a ring has one consumer, and it waits once)',
        'ERR_RINGBUF_POLL_PENDING',
      );
    }
    if (this.#target.walks.length === 0) {
      throw new RingBufferStateError(
        'this consumer has no rings, so poll() would wait forever: add() a ring first',
        'ERR_RINGBUF_NO_RINGS',
      );
    }
    this.#polling = true;
  }

  #stopped(signal: AbortSignal | undefined): boolean {
    signal?.throwIfAborted();
    return this.#closed;
  }

  /** A pass, with the bookkeeping of moderation: whether it delivered, and how fast the rings fill. */
  #pass(): number {
    const n = this.#target.consume();
    this.#busy = n > 1;
    const now = performance.now();
    const dt = now - this.#passAt;
    let fill = 0;
    for (const walk of this.#target.walks) fill = Math.max(fill, walk.consumedSinceMark());
    this.#fillPerMs = dt > 0 ? fill / dt : Infinity;
    if (dt > 0) {
      const keep = Math.exp(-dt / RATE_MS);
      this.#rate = keep * this.#rate + (1 - keep) * (Math.max(n, 0) / dt);
    }
    this.#passAt = now;
    return n;
  }

  /**
   * How long to nap now (0: not at all): only after a pass that delivered
   * more than one record, while records come at NAP_RATE or faster; for the budget, cut so that
   * the rings do not fill past NAP_FILL meanwhile, and
   * never past the poll's deadline.
   */
  #napNow(deadline: number, timeoutMs: number): number {
    if (!this.#busy || timeoutMs === 0 || this.#napMs === 0 || this.#rate < NAP_RATE) return 0;
    let nap = this.#fillPerMs > 0 ? Math.min(this.#napMs, NAP_FILL / this.#fillPerMs) : this.#napMs;
    nap = Math.min(nap, deadline - performance.now());
    return nap >= MIN_NAP_MS ? nap : 0;
  }

  /**
   * Announces sleep on every ring (WAIT = ARMED), then looks once more.
   * True when nothing is ready, so the caller may sleep: a producer that
   * commits the record at our position after this look sees WAIT = ARMED and
   * wakes us (Dekker: our WAIT store before the header load, its header xchg
   * before its WAIT load in wake(), assembly/ring.ts).
   */
  #arm(): boolean {
    const walks = this.#target.walks;
    // the adaptive rule compares a record's position with CONSUMER_POS
    for (const walk of walks) walk.publish();
    for (const walk of walks) walk.setWait(WAIT_ARMED);
    let sleep = false;
    try {
      // the look may step over discarded records without publishing them: then publish first (next turn)
      sleep = !this.#target.ready() && walks.every((walk) => walk.settled);
      // a look that stepped over discarded records may have published without
      // waking the producers waiting for room: wake them before sleeping
      if (sleep) for (const walk of walks) walk.publish();
    } finally {
      if (!sleep) this.#disarm();
    }
    return sleep;
  }

  #disarm(): void {
    for (const walk of this.#target.walks) walk.setWait(WAIT_AWAKE);
  }

  #words(): WaitWord[] {
    return this.#target.walks.map((walk) => walk.waitWord);
  }

  /**
   * Begins a sleep (ARMED, set by #arm()) or a nap (NAPPING, set here) until
   * a wakeup or `ms` pass; null when a wakeup came first. The caller awaits
   * it, sets WAIT back to AWAKE (#disarm) and ends it.
   */
  #beginSleep(state: number, ms: number): Waiting | null {
    if (state === WAIT_NAPPING) for (const walk of this.#target.walks) walk.setWait(WAIT_NAPPING);
    return startWait(this.#words(), state, ms, this.#cancels);
  }

  #sleepSync(state: number, ms: number): void {
    const walk = this.#target.walks[0]!;
    const { i32, index } = walk.waitWord;
    if (state === WAIT_NAPPING) walk.setWait(WAIT_NAPPING);
    // pairs with the cmpxchg of WAIT and the notify in wake() (assembly/ring.ts)
    Atomics.wait(i32, index, state, ms);
    walk.setWait(WAIT_AWAKE);
  }

  /** Wakes every wait in flight: in waitAsync, in Atomics.wait, or in a stand-in worker. */
  #interrupt(): void {
    for (const cancel of [...this.#cancels]) cancel();
    for (const { i32, index } of this.#words()) Atomics.notify(i32, index);
  }
}
