// The matrix: the kernel's bench_ringbufs scenarios (back-to-back producers,
// sampled notification, batched consume, contending producers) plus record
// sizes, each crossed with every contender that accepts it.

import { wakeupLabel, type BenchConfig, type ConsumeMode, type Contender, type Wakeup } from './config.js';
import { figures, type CellReport } from './report.js';
import type { Progress } from './util.js';

interface Scenario {
  name: string;
  /** One line on what the scenario shows, for the report. */
  about: string;
  producers: number[];
  sizes: number[];
  wakeups: Wakeup[];
  consume: ConsumeMode;
  /** Contender names, where not every contender that accepts the settings should run. */
  only?: string[];
  /** The reduced settings of `--quick`. */
  quick: Partial<Pick<Scenario, 'producers' | 'sizes' | 'wakeups'>>;
  /** Contenders whose one-producer cells a headline ratio divides run by run: they run JUDGED_RUNS times in full mode. */
  judged?: string[];
}

/**
 * Full-mode runs of the cells whose run-by-run ratios a noisy machine moves
 * most (steady.ts gives every cell of its section as many): with 3, one slow
 * stretch in two of them sets the median.
 */
export const JUDGED_RUNS = 7;

const RAW = ['wasm-ringbuf raw lock', 'wasm-ringbuf raw cas'];

/** Every scenario, in report order. */
export const scenarios: readonly Scenario[] = [
  {
    name: 'producers',
    about: '64 B records from 1, 2 and 4 producer workers; adaptive wakeups; the consumer loops on `await poll(-1)`.',
    producers: [1, 2, 4], sizes: [64], wakeups: ['adaptive'], consume: 'poll',
    quick: { producers: [1, 2] },
    // the headline's cross-thread ÷ single-thread produce rate
    judged: ['wasm-ringbuf raw lock', 'wasm-ringbuf raw, one thread'],
  },
  {
    name: 'no-wakeup',
    about: 'Every record committed with `BPF_RB_NO_WAKEUP`; the consumer drains in a loop and sleeps 1 ms when it finds nothing.',
    producers: [1, 2, 4], sizes: [64], wakeups: ['none'], consume: 'drain',
    quick: { producers: [1] },
  },
  {
    name: 'batch',
    about: 'Adaptive wakeups; the consumer takes `consumeN(64)` at a time and polls only when that finds nothing.',
    producers: [1, 2], sizes: [64], wakeups: ['adaptive'], consume: 'batch', only: RAW,
    quick: { producers: [1] },
  },
  {
    name: 'sampled',
    about: '`BPF_RB_FORCE_WAKEUP` on every Nth record, `BPF_RB_NO_WAKEUP` on the others (the kernel\'s sampled notification); the consumer polls.',
    producers: [1], sizes: [64], wakeups: [1, 5, 25, 100, 500, 3000], consume: 'poll', only: RAW,
    quick: { wakeups: [25] },
  },
  {
    name: 'sizes',
    about: 'One producer, records of 8, 512 and 4096 bytes (64 B is in `producers`); adaptive wakeups.',
    producers: [1], sizes: [8, 512, 4096], wakeups: ['adaptive'], consume: 'poll',
    only: ['wasm-ringbuf raw lock', 'wasm-ringbuf reserve', 'wasm-ringbuf output', 'postMessage', 'postMessage batched'],
    quick: { sizes: [4096] },
  },
  {
    name: 'sizes-drain',
    about: 'One producer, records of 8, 512 and 4096 bytes, `BPF_RB_NO_WAKEUP` and a draining consumer, beside ringbuf.js.',
    producers: [1], sizes: [8, 512, 4096], wakeups: ['none'], consume: 'drain',
    only: ['wasm-ringbuf raw lock', 'ringbuf.js'],
    quick: { sizes: [4096] },
  },
];

/** How much each run may send and for how long, and how often each cell runs. */
export interface Budget {
  records: number;
  timeLimitMs: number;
  runs: number;
  ringBytes: number;
  batch: number;
}

/** Full mode: medians of 3; quick mode: one short run per cell, a smoke test. */
export function budget(quick: boolean): Budget {
  return quick
    ? { records: 100_000, timeLimitMs: 300, runs: 1, ringBytes: 1 << 20, batch: 64 }
    : { records: 4_000_000, timeLimitMs: 1000, runs: 3, ringBytes: 1 << 20, batch: 64 };
}

/** One contender in one configuration. */
export interface Cell {
  label: string;
  contender: Contender;
  config: BenchConfig;
  /** Runs of this cell, where it needs more than the budget's (the ratios a noisy machine moves most). */
  runs?: number;
}

/** The label `--filter` matches: scenario/contender/producers/size/wakeup, then the rate of a paced cell. */
export function cellLabel(contender: string, config: BenchConfig): string {
  const { pace } = config;
  const rate = typeof pace === 'object' && 'rate' in pace ? `/${pace.rate}/s` : '';
  return `${config.scenario}/${contender}/${config.producers}p/${config.recordSize}B/${wakeupLabel(config.wakeup)}${rate}`;
}

/**
 * Every cell of the matrix for `quick` or full mode, split into those to run
 * and those a contender refused (with its reason).
 */
export function matrix(contenders: readonly Contender[], quick: boolean): { cells: Cell[]; refused: { label: string; reason: string }[] } {
  const b = budget(quick);
  const cells: Cell[] = [];
  const refused: { label: string; reason: string }[] = [];
  for (const s of scenarios) {
    const producers = (quick && s.quick.producers) || s.producers;
    const sizes = (quick && s.quick.sizes) || s.sizes;
    const wakeups = (quick && s.quick.wakeups) || s.wakeups;
    for (const contender of contenders) {
      if (s.only && !s.only.includes(contender.name)) continue;
      for (const wakeup of wakeups) {
        for (const recordSize of sizes) {
          for (const p of producers) {
            const config: BenchConfig = {
              scenario: s.name, producers: p, recordSize, wakeup, consume: s.consume, batch: b.batch,
              ringBytes: b.ringBytes, records: b.records, timeLimitMs: b.timeLimitMs, pace: 'free', pollMs: -1, full: 'retry',
            };
            const label = cellLabel(contender.name, config);
            const reason = contender.validate(config);
            const judged = !quick && p === 1 && s.judged?.includes(contender.name) === true;
            if (reason === null) cells.push({ label, contender, config, ...(judged ? { runs: JUDGED_RUNS } : {}) });
            else refused.push({ label, reason });
          }
        }
      }
    }
  }
  return { cells, refused };
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Runs every cell `runs` times (or its own `runs`), round-robin: each pass
 * runs every cell once, so that a cell's runs are spread over the session
 * and a noisy minute does not hit one cell only; the passes past `runs` run
 * only the cells that asked for more, still in order, so that the cells a
 * ratio pairs stay side by side. A cell that errs is not run again;
 * `errors` gets its label and message. Returns one report per cell, with
 * its medians.
 */
export async function runCells(cells: readonly Cell[], runs: number, progress: Progress, errors: string[]): Promise<CellReport[]> {
  const reports: CellReport[] = cells.map((cell) => ({
    label: cell.label, contender: cell.contender.name, config: cell.config, runs: [], error: null, median: null, ratio: null,
  }));
  const passes = Math.max(runs, ...cells.map((c) => c.runs ?? runs));
  for (let run = 1; run <= passes; run++) {
    const due = cells.filter((c) => run <= (c.runs ?? runs)).length;
    let k = 0;
    for (const [i, cell] of cells.entries()) {
      const report = reports[i]!;
      if (report.error !== null || run > (cell.runs ?? runs)) continue;
      k++;
      progress(`${passes > 1 ? `pass ${run}/${passes} · ` : ''}[${k}/${due}] ${cell.label}`);
      try {
        report.runs.push(await cell.contender.run(cell.config));
      } catch (error) {
        report.error = message(error);
        errors.push(`${cell.label}: ${report.error}`);
      }
    }
  }
  for (const report of reports) if (report.error === null) report.median = figures(report.config, report.runs);
  return reports;
}
