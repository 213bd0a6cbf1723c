// The matrix: each scenario's producers × wakeup mode × pace, crossed with
// every contender whose validate() accepts the cell, and the scheduler that
// runs the cells in round-robin passes.

import { run, type BenchConfig, type Contender, type Pace, type RunResult, type Wakeup } from './harness.js';
import { median, message, type Progress } from './util.js';

export interface Scenario {
  name: string;
  /** What the scenario asks, for the report. */
  about: string;
  producers: number[];
  recordSize: number;
  wakeups: Wakeup[];
  paces: Pace[];
  /** Contender names, where not every contender that accepts the cell should run it. */
  only?: string[];
}

/** The contenders a user chooses between (the ring runs with either wakeup mode). */
const USER_CHOICES = ['wasm-ringbuf', 'postMessage', 'postMessage ×64', 'ringbuf.js'];

/** Every scenario, in report order. */
export const scenarios: readonly Scenario[] = [
  {
    name: 'throughput',
    about: '64 B records from 1 and 2 producer workers as fast as they go (a refused record: sleep 50 µs, try again).',
    producers: [1, 2],
    recordSize: 64,
    wakeups: ['adaptive', 'NO_WAKEUP'],
    paces: ['free'],
  },
  {
    name: '4 KiB',
    about: '4096 B records from one producer as fast as it goes.',
    producers: [1],
    recordSize: 4096,
    wakeups: ['adaptive', 'NO_WAKEUP'],
    paces: ['free'],
  },
  {
    name: 'steady',
    about:
      'One producer at a fixed rate, paced per 1 ms tick, timing its own writes (a refused record is dropped and counted); ' +
      'each record carries its send time, and the consumer takes its delivery latency (clocks calibrated between the threads).',
    producers: [1],
    recordSize: 64,
    wakeups: ['adaptive', 'NO_WAKEUP'],
    paces: [{ rate: 20_000 }, { rate: 200_000 }, { rate: 1_000_000 }],
    only: USER_CHOICES,
  },
  {
    name: 'idle',
    about:
      'Idle → first record: one record every 2 ms, the consumer asleep between them; latency from the send time to the callback.',
    producers: [1],
    recordSize: 64,
    wakeups: ['adaptive'],
    paces: [{ rate: 500 }],
    only: ['wasm-ringbuf', 'postMessage'],
  },
  {
    name: 'b2b',
    about:
      'Back-to-back request/response: the consumer asks (Atomics.notify; postMessage: a message, a ping-pong), the producer answers with one ' +
      'record; latency from the request to the response, with the default flags and with BPF_RB_FORCE_WAKEUP on the answer.',
    producers: [1],
    recordSize: 64,
    wakeups: ['adaptive', 'FORCE_WAKEUP'],
    paces: ['b2b'],
    only: ['wasm-ringbuf', 'postMessage'],
  },
];

/** How long a run lasts, how many records it may send, and how many runs each cell gets. */
export interface Budget {
  /** Free and back-to-back runs stop after this long. */
  runMs: number;
  /** Free runs send up to this many records in all. */
  records: number;
  /** Paced runs last this long at their rate. */
  pacedMs: number;
  runs: number;
  ringBytes: number;
}

/** Full mode: medians of 5; quick mode: one short run per cell, a smoke test. */
export function budget(quick: boolean): Budget {
  return quick
    ? { runMs: 150, records: 100_000, pacedMs: 200, runs: 1, ringBytes: 1 << 20 }
    : { runMs: 1000, records: 4_000_000, pacedMs: 1000, runs: 5, ringBytes: 1 << 20 };
}

/** The short text of a pace, as shown in labels and tables. */
export function paceLabel(pace: Pace): string {
  if (pace === 'free' || pace === 'b2b') return pace;
  return pace.rate >= 1e6 ? `${pace.rate / 1e6}M/s` : `${pace.rate / 1e3}k/s`;
}

/** The label `--filter` matches: scenario/contender/producers/wakeup/pace. */
export function cellLabel(contender: string, config: BenchConfig): string {
  return `${config.scenario}/${contender}/${config.producers}p/${config.wakeup}/${paceLabel(config.pace)}`;
}

/** One scenario cell's settings under `b`. */
export function cellConfig(
  s: Pick<Scenario, 'name' | 'recordSize'>,
  producers: number,
  wakeup: Wakeup,
  pace: Pace,
  b: Budget,
): BenchConfig {
  const base = { scenario: s.name, producers, recordSize: s.recordSize, wakeup, pace, ringBytes: b.ringBytes };
  if (pace === 'free') return { ...base, records: b.records, timeLimitMs: b.runMs };
  // back-to-back: as many round trips as come in runMs (the bound sizes the latency samples)
  if (pace === 'b2b') return { ...base, records: 200_000, timeLimitMs: b.runMs };
  // the idle cell: at least 100 samples; the time limit only guards a producer that cannot keep the rate
  const ms = Math.max(b.pacedMs, (100 * 1000) / pace.rate);
  return { ...base, records: Math.round((pace.rate * ms) / 1000), timeLimitMs: ms * 1.5 };
}

/** One contender in one configuration. */
export interface Cell {
  label: string;
  contender: Contender;
  config: BenchConfig;
}

/**
 * Every cell of the matrix, split into those to run and those a contender
 * refused (with its reason).
 */
export function matrix(
  contenders: readonly Contender[],
  b: Budget,
): { cells: Cell[]; refused: { label: string; reason: string }[] } {
  const cells: Cell[] = [];
  const refused: { label: string; reason: string }[] = [];
  for (const s of scenarios) {
    for (const contender of contenders) {
      if (s.only && !s.only.includes(contender.name)) continue;
      for (const pace of s.paces) {
        for (const wakeup of s.wakeups) {
          for (const p of s.producers) {
            const config = cellConfig(s, p, wakeup, pace, b);
            const label = cellLabel(contender.name, config);
            const reason = contender.validate(config);
            if (reason === null) cells.push({ label, contender, config });
            else refused.push({ label, reason });
          }
        }
      }
    }
  }
  return { cells, refused };
}

/** The medians of one cell's runs, each figure taken separately. */
export interface Figures {
  recordsPerSec: number;
  /** Megabytes (10^6 bytes) of records per second. */
  mbPerSec: number;
  drops: number;
  wakeupsPerRecord: number | null;
  producerUsPerRecord: number | null;
  p50Us: number | null;
  p99Us: number | null;
}

/** Everything measured for one contender in one configuration. */
export interface CellReport {
  label: string;
  contender: string;
  config: BenchConfig;
  runs: RunResult[];
  error: string | null;
  median: Figures | null;
  /** The contender's note on its median run (its report()). */
  note: string;
}

/** A run's records per second. */
export function runRate(r: RunResult): number {
  return (r.records * 1000) / r.elapsedMs;
}

function medianOrNull(values: (number | null)[]): number | null {
  const present = values.filter((v): v is number => v !== null && Number.isFinite(v));
  return present.length > 0 ? median(present) : null;
}

/** The medians of `runs`. */
export function figures(config: BenchConfig, runs: readonly RunResult[]): Figures {
  const recordsPerSec = median(runs.map(runRate));
  return {
    recordsPerSec,
    mbPerSec: (recordsPerSec * config.recordSize) / 1e6,
    drops: median(runs.map((r) => r.drops)),
    wakeupsPerRecord: medianOrNull(runs.map((r) => (r.wakeups === null ? null : r.wakeups / Math.max(1, r.records)))),
    producerUsPerRecord: medianOrNull(runs.map((r) => r.producerUsPerRecord)),
    p50Us: medianOrNull(runs.map((r) => r.latency?.p50Us ?? null)),
    p99Us: medianOrNull(runs.map((r) => r.latency?.p99Us ?? null)),
  };
}

/**
 * Runs every cell `runs` times, round-robin: each pass runs every cell
 * once, so that a cell's runs are spread over the session and a noisy
 * minute does not hit one cell only. A cell that errs is not run again;
 * `errors` gets its label and message. `runCell` is harness.ts run() unless
 * a test gives another.
 */
export async function runCells(
  cells: readonly Cell[],
  runs: number,
  progress: Progress,
  errors: string[],
  runCell = run,
): Promise<CellReport[]> {
  const reports: CellReport[] = cells.map((cell) => ({
    label: cell.label,
    contender: cell.contender.name,
    config: cell.config,
    runs: [],
    error: null,
    median: null,
    note: '',
  }));
  for (let pass = 1; pass <= runs; pass++) {
    for (const [i, cell] of cells.entries()) {
      const report = reports[i]!;
      if (report.error !== null) continue;
      progress(`${runs > 1 ? `pass ${pass}/${runs} · ` : ''}[${i + 1}/${cells.length}] ${cell.label}`);
      try {
        report.runs.push(await runCell(cell.contender, cell.config));
      } catch (error) {
        report.error = message(error);
        errors.push(`${cell.label}: ${report.error}`);
      }
    }
  }
  for (const [i, report] of reports.entries()) {
    if (report.error !== null) continue;
    report.median = figures(report.config, report.runs);
    // the contender's note on the run nearest its median rate
    const byRate = [...report.runs].sort((a, b) => runRate(a) - runRate(b));
    report.note = cells[i]!.contender.report(byRate[byRate.length >> 1]!, report.config);
  }
  return reports;
}
