// The wait that does not block the thread: Atomics.waitAsync on one or more
// words or, where a browser lacks it, workers that block in Atomics.wait on
// the caller's behalf. The consumers' Waiter (src/wait.ts) and the producers
// waiting for room (src/room.ts) sleep through it.

import { RingBufferStateError } from './errors.js';
import type { WaitWord } from './wasm.js';

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
