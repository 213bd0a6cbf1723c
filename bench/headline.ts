// The headline ratios, which `npm start` prints and results.md opens with:
// the ring's default path (the README's reserve → data.set → submit with
// flags 0, consumer `await consumer.poll()`, 64 B records, as fast as the
// producer goes) over each thing a user would pick instead, and over itself
// with two producers and with BPF_RB_NO_WAKEUP.
//
// A shared machine runs a core up to 1.7× slower for a few hundred
// milliseconds to seconds at a time when other work lands on it, so a ratio
// of two cells measured minutes apart says little. Here each ratio is taken
// round by round: a round runs its two sides back to back (A B, then B A in
// the next round, so that neither side always goes first), divides them,
// and the headline is the median of those per-round ratios, with how far
// they moved between rounds (min–max).

import { postMessage, postMessageBatched, ring, ringbufjs } from './contenders/index.js';
import { run, type BenchConfig, type Contender, type RunResult, type Wakeup } from './harness.js';
import { cellConfig, runRate, type Budget } from './scenarios.js';
import { message, pairedRatios, spread, type Progress, type Spread } from './util.js';

/** One side of a ratio: a contender with 64 B records, as fast as it goes. */
interface Side {
  contender: Contender;
  producers: number;
  wakeup: Wakeup;
}

export interface Pair {
  name: string;
  /** What the denominator is, in a few words. */
  detail: string;
  a: Side;
  b: Side;
}

const DEFAULT_PATH: Side = { contender: ring, producers: 1, wakeup: 'adaptive' };

/** The headline ratios, numerator first. */
export const PAIRS: readonly Pair[] = [
  {
    name: 'wasm-ringbuf ÷ postMessage',
    detail: 'one message per record',
    a: DEFAULT_PATH,
    b: { ...DEFAULT_PATH, contender: postMessage },
  },
  {
    name: 'wasm-ringbuf ÷ postMessage ×64',
    detail: '64 records per transferred message',
    a: DEFAULT_PATH,
    b: { ...DEFAULT_PATH, contender: postMessageBatched },
  },
  {
    name: 'wasm-ringbuf ÷ ringbuf.js',
    detail: 'no wakeup: its consumer drains, sleeping 1 ms when empty',
    a: DEFAULT_PATH,
    b: { contender: ringbufjs, producers: 1, wakeup: 'NO_WAKEUP' },
  },
  {
    name: '2 producers ÷ 1',
    detail: 'wasm-ringbuf, aggregate records/s',
    a: { ...DEFAULT_PATH, producers: 2 },
    b: DEFAULT_PATH,
  },
  {
    name: 'adaptive ÷ NO_WAKEUP',
    detail: 'wasm-ringbuf; NO_WAKEUP: the consumer drains, sleeping 1 ms when empty',
    a: DEFAULT_PATH,
    b: { ...DEFAULT_PATH, wakeup: 'NO_WAKEUP' },
  },
];

/** What the rounds measured for one pair. */
export interface PairResult {
  name: string;
  detail: string;
  /** records/s of each side, round by round. */
  a: number[];
  b: number[];
  /** a ÷ b round by round, and its median and range; null when a run failed. */
  ratio: Spread | null;
  error: string | null;
}

export interface HeadlineResult {
  rounds: number;
  runMs: number;
  pairs: PairResult[];
}

/** The run-by-run order of a pair's two sides in round `round` (0-based): A B, then B A. */
export function order(round: number): ['a', 'b'] | ['b', 'a'] {
  return round % 2 === 0 ? ['a', 'b'] : ['b', 'a'];
}

/**
 * Runs `rounds` rounds of every pair in `pairs`, each side for `b.runMs`;
 * a pair whose run fails is left out of the later rounds and its error kept
 * (and added to `errors`). `runCell` is harness.ts run() unless a test gives
 * another.
 */
export async function headline(
  rounds: number,
  b: Budget,
  progress: Progress,
  errors: string[],
  pairs: readonly Pair[] = PAIRS,
  runCell: (c: Contender, config: BenchConfig) => Promise<RunResult> = run,
): Promise<HeadlineResult> {
  const results: PairResult[] = pairs.map((p) => ({
    name: p.name,
    detail: p.detail,
    a: [],
    b: [],
    ratio: null,
    error: null,
  }));
  const scenario = { name: 'headline', recordSize: 64 };
  // one uncounted run of each side first: the workers kept between runs, and this thread, start cold
  try {
    progress('headline · warm-up');
    const sides = [...new Set(pairs.flatMap((p) => [p.a, p.b]))];
    for (const { contender, producers, wakeup } of sides)
      await runCell(contender, cellConfig(scenario, producers, wakeup, 'free', { ...b, runMs: b.runMs / 2 }));
  } catch (error) {
    errors.push(`headline warm-up: ${message(error)}`);
  }
  for (let round = 0; round < rounds; round++) {
    for (const [i, pair] of pairs.entries()) {
      const result = results[i]!;
      if (result.error !== null) continue;
      progress(`headline · round ${round + 1}/${rounds} · ${pair.name}`);
      try {
        for (const side of order(round)) {
          const { contender, producers, wakeup } = pair[side];
          result[side].push(runRate(await runCell(contender, cellConfig(scenario, producers, wakeup, 'free', b))));
        }
      } catch (error) {
        result.error = message(error);
        errors.push(`headline ${pair.name}: ${result.error}`);
      }
    }
  }
  for (const r of results) if (r.error === null && r.a.length > 0) r.ratio = spread(pairedRatios(r.a, r.b));
  return { rounds, runMs: b.runMs, pairs: results };
}

/** A ratio as printed: two decimals and a ×. */
export function times(v: number): string {
  return Number.isFinite(v) ? `${v.toFixed(2)}×` : '–';
}

/** The headline as lines of text: one per ratio, its median and range. */
export function headlineLines(h: HeadlineResult): string[] {
  const width = Math.max(...h.pairs.map((p) => p.name.length));
  const lines = [`${''.padEnd(width)}   median   min–max over ${h.rounds} rounds`];
  for (const p of h.pairs) {
    const r = p.ratio;
    lines.push(
      r === null
        ? `${p.name.padEnd(width)}   failed: ${p.error}`
        : `${p.name.padEnd(width)}   ${times(r.median).padStart(6)}   ${times(r.min)}–${times(r.max)}   (${p.detail})`,
    );
  }
  return lines;
}
