// Small helpers every part of the benchmark uses: statistics, sleeping,
// timeouts, the progress line, and a clock that can be compared between
// threads.

/** Reports what is running now (drawn as the progress line on stderr). */
export type Progress = (text: string) => void;

/** The median of `values` (NaN when empty). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** `a[i] / b[i]` for each run i: ratios taken run by run (the same minute of a noisy machine). */
export function pairedRatios(a: readonly number[], b: readonly number[]): number[] {
  if (a.length !== b.length) throw new RangeError(`paired runs must match one to one; got ${a.length} and ${b.length}`);
  return a.map((v, i) => v / b[i]!);
}

/** A ratio's summary: the median of its run-by-run values, and how far they moved (min–max). */
export interface Spread {
  median: number;
  min: number;
  max: number;
  /** Runs (pairs) it summarises. */
  n: number;
}

/** The median and range of `values`. */
export function spread(values: readonly number[]): Spread {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values), n: values.length };
}

/** The `p`-th percentile (0..100) of `values`, nearest rank (NaN when empty). */
export function percentile(values: ArrayLike<number>, p: number): number {
  const sorted = Float64Array.from(values).sort();
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** Resolves after about `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `promise`, or a rejection naming `what` after `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The live progress line on stderr: rewritten in place on a terminal, one line per step elsewhere. */
export class ProgressLine {
  readonly #tty = process.stderr.isTTY === true;
  readonly #t0 = performance.now();
  #text = '';
  #timer: ReturnType<typeof setInterval> | undefined;

  readonly show: Progress = (text) => {
    this.#text = text;
    if (this.#tty) {
      this.#draw();
      this.#timer ??= setInterval(() => this.#draw(), 250).unref();
    } else {
      process.stderr.write(`${this.#elapsed()} ${text}\n`);
    }
  };

  done(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#tty) process.stderr.write('\r\x1b[2K');
  }

  #elapsed(): string {
    return `${((performance.now() - this.#t0) / 1000).toFixed(1).padStart(5)} s`;
  }

  #draw(): void {
    const line = `${this.#elapsed()} ${this.#text}`;
    process.stderr.write(`\r\x1b[2K${line.slice(0, (process.stderr.columns || 120) - 1)}`);
  }
}

/** Milliseconds on a clock comparable between threads once calibrated (see calibrateMain()). */
export function clock(): number {
  return performance.timeOrigin + performance.now();
}

// ---- clock calibration ----------------------------------------------------
//
// performance.timeOrigin + performance.now() is wall-clock-at-thread-start plus
// a monotonic delta, so two threads' clocks can disagree by the error of each
// thread's start reading. Before timing anything across threads, the main
// thread and each worker play ping-pong on a shared word; the round with the
// shortest round trip gives the offset (worker − main) to within half that
// round trip. Each side spins briefly for the other's answer, then sleeps on
// the word: when a loaded machine leaves both threads one core, a pure spin
// would hold the core the other side needs, and every round would last a
// scheduler slice.

const CAL_READY = 0;
const CAL_REQ = 1;
const CAL_RESP = 2;
const CAL_ROUNDS = 300; // at least
const CAL_MAX_ROUNDS = 20_000;
const CAL_GROUP = 100;
const CAL_GOOD_MS = 0.01; // stop once a round trip under 10 µs was seen
const CAL_MAX_MS = 2000; // on a loaded machine a good round can take a while to come
const CAL_SPIN_MS = 0.05;

/** Shared memory for one worker's calibration. */
export function calibrationBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(64);
}

/** What calibrateMain() found: worker clock − main clock, and the best round trip (twice the error bound). */
export interface Calibration {
  offsetMs: number;
  rttUs: number;
}

/** Waits until `i32[index]` is no longer `old`: spins CAL_SPIN_MS, then sleeps on it; returns the new value. */
function await32(i32: Int32Array, index: number, old: number, timeoutMs: number, what: string): number {
  const t0 = performance.now();
  for (let v = Atomics.load(i32, index); ; v = Atomics.load(i32, index)) {
    if (v !== old) return v;
    const waited = performance.now() - t0;
    if (waited > timeoutMs) throw new Error(`clock calibration: ${what}`);
    if (waited > CAL_SPIN_MS) Atomics.wait(i32, index, old, 10);
  }
}

/** Main side: blocks until the worker has called calibrateWorker() on `sab`, then measures. */
export function calibrateMain(sab: SharedArrayBuffer, timeoutMs = 15_000): Calibration {
  const i32 = new Int32Array(sab);
  const f64 = new Float64Array(sab, 8 * 4, 1);
  if (Atomics.wait(i32, CAL_READY, 0, timeoutMs) === 'timed-out' && Atomics.load(i32, CAL_READY) === 0) {
    throw new Error('a worker did not start its clock calibration in time');
  }
  let best = Infinity;
  let offset = 0;
  const stop = performance.now() + CAL_MAX_MS;
  // Rounds in groups with a short sleep between them: on a loaded machine a
  // descheduled worker delays every round of a group, not every group.
  for (let round = 1; round <= CAL_MAX_ROUNDS; round++) {
    const t0 = clock();
    Atomics.store(i32, CAL_REQ, round);
    Atomics.notify(i32, CAL_REQ); // pairs with the wait in calibrateWorker()
    await32(i32, CAL_RESP, round - 1, 1000, 'the worker stopped answering');
    const t2 = clock();
    const t1 = f64[0]!;
    if (t2 - t0 < best) {
      best = t2 - t0;
      offset = t1 - (t0 + t2) / 2;
    }
    if (round % CAL_GROUP === 0) {
      if ((round >= CAL_ROUNDS && best < CAL_GOOD_MS) || performance.now() > stop) break;
      Atomics.wait(i32, CAL_READY, 1, 0.5); // CAL_READY stays 1: a half-millisecond sleep
    }
  }
  Atomics.store(i32, CAL_REQ, -1);
  Atomics.notify(i32, CAL_REQ);
  return { offsetMs: offset, rttUs: best * 1000 };
}

/** Worker side of calibrateMain(): answers every round, then returns. */
export function calibrateWorker(sab: SharedArrayBuffer): void {
  const i32 = new Int32Array(sab);
  const f64 = new Float64Array(sab, 8 * 4, 1);
  Atomics.store(i32, CAL_READY, 1);
  Atomics.notify(i32, CAL_READY);
  // sleep, not spin, while the main thread calibrates other workers
  Atomics.wait(i32, CAL_REQ, 0, 30_000);
  for (let seen = 0; ; ) {
    const req = await32(i32, CAL_REQ, seen, 30_000, 'the main thread stopped asking');
    if (req === -1) return;
    seen = req;
    f64[0] = clock();
    Atomics.store(i32, CAL_RESP, req);
    Atomics.notify(i32, CAL_RESP); // pairs with the wait in calibrateMain()
  }
}
