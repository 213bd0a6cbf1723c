// How consumers wait, in one place: the announce-then-look sleep (arm, the
// second look, disarm) [A1]–[A5], the nap that moderates wakeups, the poll
// loops (async and blocking), and the wait that does not block the thread
// (Atomics.waitAsync on one or more words, or, where a browser lacks it,
// workers that block in Atomics.wait on the caller's behalf), which producers
// waiting for room (src/room.ts) use too. Every consumer's Waiter is here;
// poll(), pollSync() and close() on top of it are in src/consumer.ts.
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
        wait = this.#beginSleep(WAIT_NAPPING, nap);
        if (wait !== null) await wait.done;
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

// ---- the wait that does not block the thread -----------------------------

const noop = (): void => {};

// A worker that blocks in Atomics.wait on the waiter's behalf and answers
// when the wait ends: the stand-in for Atomics.waitAsync (Firefox before 145,
// Safari before 16.4). It waits on the same word for the same value, so it
// honours the wakeup flags exactly as waitAsync does.
const STAND_IN_SOURCE = `onmessage = (e) => {
  const { i32, index, value, timeout, id } = e.data;
  postMessage({ id, result: Atomics.wait(i32, index, value, timeout) });
};`;

/**
 * The stand-in workers of this thread, shared by every waiter: one per wait
 * in flight, idle ones kept for the next wait.
 */
class StandIns {
  readonly #idle: Worker[] = [];
  #url: string | undefined;
  #next = 0;

  /**
   * Waits in a worker while `word` holds `value` (at most `ms`). `cancel()`
   * settles the wait at once and ends that worker (it is blocked, so it
   * cannot be reused).
   */
  wait(word: WaitWord, value: number, ms: number): { done: Promise<unknown>; cancel: () => void } {
    if (typeof Worker !== 'function' || typeof Blob !== 'function') {
      throw new RingBufferStateError(
        'waiting needs Atomics.waitAsync, or Worker to stand in for it; this runtime has neither. ' +
          'Use pollSync() in a worker.',
        'ERR_RINGBUF_NO_WAIT',
      );
    }
    this.#url ??= URL.createObjectURL(new Blob([STAND_IN_SOURCE], { type: 'text/javascript' }));
    const worker = this.#idle.pop() ?? new Worker(this.#url);
    const id = ++this.#next;
    let settle!: (v: unknown) => void;
    let fail!: (e: unknown) => void;
    const done = new Promise((resolve, reject) => {
      settle = resolve;
      fail = reject;
    });
    const cleanup = (): void => {
      worker.removeEventListener('message', onMessage);
      worker.removeEventListener('error', onError);
    };
    const onError = (e: ErrorEvent): void => {
      cleanup();
      worker.terminate();
      fail(new RingBufferStateError(`the Atomics.wait stand-in worker failed: ${e.message}`, 'ERR_RINGBUF_NO_WAIT'));
    };
    const onMessage = (e: MessageEvent<{ id: number; result: string }>): void => {
      if (e.data.id !== id) return;
      cleanup();
      this.#idle.push(worker);
      settle(e.data.result);
    };
    worker.addEventListener('message', onMessage);
    worker.addEventListener('error', onError);
    worker.postMessage({ i32: word.i32, index: word.index, value, timeout: ms, id });
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

let standIns: StandIns | undefined;

/** @internal A wait begun by startWait(): await `done`, then call `end()` (once it settled or was cancelled). */
export interface Waiting {
  readonly done: Promise<unknown>;
  end(): void;
}

/**
 * @internal
 * Begins a wait that does not block the thread, until any of `words` no
 * longer holds `value` (a notify on it), `ms` pass (Infinity: without end) or
 * `signal` aborts: in `Atomics.waitAsync` on all of them at once or, where a
 * browser lacks it, in stand-in workers blocked in `Atomics.wait` (their
 * cancels sit in `cancels` meanwhile). Returns null when a word moved
 * already (a wakeup came first). Holds the event loop open until `end()`.
 *
 * The caller awaits `done` itself, so that a wakeup reaches it in one turn
 * of the microtask queue, and may call `end()` after its work, not before.
 */
export function startWait(
  words: readonly WaitWord[],
  value: number,
  ms: number,
  cancels: Set<() => void> = new Set(),
  signal?: AbortSignal,
): Waiting | null {
  const waits: Promise<unknown>[] = [];
  for (const word of words) {
    if (typeof Atomics.waitAsync !== 'function') {
      const w = (standIns ??= new StandIns()).wait(word, value, ms);
      cancels.add(w.cancel);
      waits.push(w.done.finally(() => cancels.delete(w.cancel)));
      continue;
    }
    const w = Atomics.waitAsync(word.i32, word.index, value, ms === Infinity ? undefined : Math.max(0, ms));
    if (!w.async) {
      // the word moved already: a wakeup came first; settle the waits begun on earlier words
      if (waits.length > 0) for (const other of words) Atomics.notify(other.i32, other.index);
      for (const cancel of [...cancels]) cancel();
      return null;
    }
    waits.push(w.value);
  }
  let onAbort: (() => void) | undefined;
  if (signal !== undefined) {
    waits.push(
      new Promise<void>((resolve) => {
        onAbort = () => {
          for (const cancel of [...cancels]) cancel();
          resolve();
        };
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort);
      }),
    );
  }
  // Node does not count a pending waitAsync as work: hold the event loop open while asleep.
  const keepAlive = setInterval(noop, 2 ** 30);
  return {
    // one wait (a consumer of one ring) is awaited as it is: a race would add a turn of the microtask queue
    done: waits.length === 1 ? waits[0]! : Promise.race(waits),
    end() {
      clearInterval(keepAlive);
      if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
      // settle the waits on the words that did not fire (only the consumer waits on a WAIT word)
      if (words.length > 1) for (const { i32, index } of words) Atomics.notify(i32, index);
    },
  };
}

/** @internal startWait(), awaited and ended. */
export async function waitOn(
  words: readonly WaitWord[],
  value: number,
  ms: number,
  cancels?: Set<() => void>,
  signal?: AbortSignal,
): Promise<void> {
  const w = startWait(words, value, ms, cancels, signal);
  if (w === null) return;
  try {
    await w.done;
  } finally {
    w.end();
  }
}
