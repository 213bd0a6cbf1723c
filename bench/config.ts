// The vocabulary of the harness: what one measurement asks for (BenchConfig),
// what a contender is (Contender, after the kernel's bench_ringbufs.c records)
// and what one run reports (RunResult).

import { BPF_RB_FORCE_WAKEUP, BPF_RB_NO_WAKEUP } from 'wasm-ringbuf';

/**
 * When a producer asks for the consumer to be woken: `'adaptive'` is the
 * kernel's default rule (flags 0), `'none'` is `BPF_RB_NO_WAKEUP` on every
 * record, a number N is `BPF_RB_FORCE_WAKEUP` on every Nth record and
 * `BPF_RB_NO_WAKEUP` on the others (the kernel's sampled notification).
 */
export type Wakeup = 'adaptive' | 'none' | number;

/**
 * How the main-thread consumer waits: `'poll'` loops on `await
 * poll(pollMs)`, `'batch'` loops on `consumeN(batch)` and polls only when
 * that finds nothing, `'drain'` consumes in a loop and sleeps briefly when it finds
 * nothing (no wakeups needed).
 */
export type ConsumeMode = 'poll' | 'batch' | 'drain';

/**
 * How producers send: `'free'` as fast as they can; `{ rate }` records per
 * second each, paced per 1 ms tick, each record stamped with its send time
 * (bytes 8..15) and the producer timing its own writes; `{ batch }` that
 * many records each time the consumer has taken the last batch
 * (back-to-back, the kernel's `--rb-b2b`), with `forceLast` the batch's last
 * record committed with BPF_RB_FORCE_WAKEUP and the others with the cell's
 * wakeup.
 */
export type Pace = 'free' | { rate: number } | { batch: number; forceLast?: boolean };

/** One cell of the matrix: a scenario's settings, the same for every contender. */
export interface BenchConfig {
  /** Scenario name, the first part of the cell's label. */
  scenario: string;
  /** Producer worker threads. */
  producers: number;
  /** Bytes per record, producer id and sequence number included. */
  recordSize: number;
  wakeup: Wakeup;
  consume: ConsumeMode;
  /** The timeout of `poll()` in the 'poll' and 'batch' modes (-1: none). */
  pollMs: number;
  /** Records per consumeN() call in the 'batch' mode. */
  batch: number;
  /** Bytes of buffering each contender gets (the ring's size). */
  ringBytes: number;
  /** Records to send in all, split evenly between the producers. */
  records: number;
  /** Producers stop early once the run has lasted this long. */
  timeLimitMs: number;
  pace: Pace;
  /** What a producer does with a record that finds no room: back off and retry it, or drop it (counted as a drop either way). */
  full: 'retry' | 'drop';
}

/** What one run of one contender measured, at the consumer. */
export interface RunResult {
  /** Records the consumer received and verified (end markers not counted). */
  records: number;
  /** From the start barrier to the last record received. */
  elapsedMs: number;
  /** Times a producer found no room (and retried or dropped the record). */
  drops: number;
  /** Wakeups the ring sent to the sleeping consumer, or null where the contender has no such count. */
  wakeups: number | null;
  /** Times a producer slept on the producer lock, or null where there is no lock. */
  lockWaits: number | null;
  /** Whether the time limit stopped the producers before they sent every record. */
  stopped: boolean;
  /** Paced runs: µs a producer spent per attempted record inside its write calls (the send-time stamp included); the one-thread cell (solo.ts): µs per record written. */
  producerUsPerRecord: number | null;
  /** Paced runs: send → consumer callback in µs, the first 10 % of each run's records left out as warm-up. */
  latency: { p50Us: number; p99Us: number } | null;
  /**
   * CPU time the consumer's thread (this one) ran per record, in ns, from
   * the start barrier to the last record (bench/util.ts threadCpuNs(): sleeps
   * in poll() and waits for a core not counted); null off Linux and where the
   * contender does not measure it.
   */
  consumerNsPerRecord: number | null;
}

/**
 * A benchmark contender, in the shape of the kernel's `bench_ringbufs.c`
 * entries: a name, a check that refuses configurations it cannot run, and a
 * run that spawns producers, consumes on this thread and reports.
 */
export interface Contender {
  readonly name: string;
  /** Why this contender cannot run `config`, or null when it can. */
  validate(config: BenchConfig): string | null;
  /** Runs `config` once; throws when a record was lost, duplicated, reordered or corrupted. */
  run(config: BenchConfig): Promise<RunResult>;
}

/** The short text of a wakeup setting, as shown in labels and tables. */
export function wakeupLabel(wakeup: Wakeup): string {
  return typeof wakeup === 'number' ? `force/${wakeup}` : wakeup;
}

/** Commit flags of record `seq` under `wakeup`. */
export function flagsFor(wakeup: Wakeup): (seq: number) => number {
  if (wakeup === 'adaptive') return () => 0;
  if (wakeup === 'none') return () => BPF_RB_NO_WAKEUP;
  return (seq) => (seq % wakeup === 0 ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
}

/** The stride a record of `recordSize` bytes takes in the BPF ring: 8-byte header, rounded to 8. */
export function ringStride(recordSize: number): number {
  return (recordSize + 15) & ~7;
}

/** Why a ring of `config.ringBytes` cannot hold a `config.recordSize`-byte record, or null. */
export function ringFits(config: BenchConfig): string | null {
  return config.recordSize > config.ringBytes - 16 ? `a ${config.ringBytes}-byte ring holds payloads of up to ${config.ringBytes - 16} bytes` : null;
}
