// Turns the runs into figures (medians), ratios against postMessage, headline
// ratios, and the Markdown report.

import os from 'node:os';
import { wakeupLabel, type BenchConfig, type RunResult } from './config.js';
import {
  BLOCKING_TASK, CONSUME_TASK, COPY_TASK, OUTPUT_TASK, PRODUCE_TASK, RESERVE_TASK, SINGLE_CALLS_TASK, SINGLE_OUTPUT_TASK, TWIN_CONSUME_TASK, TWIN_PRODUCE_TASK, type MicroPair, type MicroResult,
} from './micro.js';
import type { Budget } from './scenarios.js';
import { steadyMarkdown } from './steady.js';
import { wasmRawOneThread } from './contenders/index.js';
import { median, pairedRatio } from './util.js';

/** The medians of one cell's runs. */
export interface Figures {
  recordsPerSec: number;
  /** Megabytes (10^6 bytes) of records per second. */
  mbPerSec: number;
  drops: number;
  wakeupsPerRecord: number | null;
  lockWaits: number | null;
  /** Paced runs: µs per attempted record inside the producer's write calls. */
  producerUsPerRecord: number | null;
  /** Paced runs (and the idle cells): send → callback, µs. */
  latencyP50Us: number | null;
  latencyP99Us: number | null;
  /** CPU ns per record of the consumer's thread (RunResult.consumerNsPerRecord). */
  consumerNsPerRecord: number | null;
}

/** Everything measured for one contender in one configuration. */
export interface CellReport {
  label: string;
  contender: string;
  config: BenchConfig;
  runs: RunResult[];
  error: string | null;
  median: Figures | null;
  /** Records/s over the baseline's with the same producers and record size, in the same run. */
  ratio: number | null;
}

/** The machine the figures come from. */
export interface Machine {
  cpu: string;
  cores: number;
  node: string;
  platform: string;
  date: string;
  /** 1-minute load average when the run began and when it ended: other work on a shared machine skews every figure. */
  load: number[];
}

/** One ratio the project tracks, as measured. */
export interface Headline {
  name: string;
  value: number;
  detail: string;
}

/** The whole report, as written to results.json. */
export interface Report {
  /** Set on a quick run: its figures are a smoke test. */
  notice: string | null;
  machine: Machine;
  mode: 'full' | 'quick';
  command: string;
  budget: Budget;
  baseline: string;
  headline: Headline[];
  cells: CellReport[];
  refused: { label: string; reason: string }[];
  micro: MicroResult[];
  /** Ratios of two micro tasks timed in alternation (micro.ts). */
  microPairs: MicroPair[];
  /** The steady-rate section (bench/steady.ts): its cells and the ratios it is for. */
  steady: { cells: CellReport[]; ratios: Headline[] };
  errors: string[];
}

/** Describes this machine. */
export function machine(): Machine {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    date: new Date().toISOString(),
    load: [os.loadavg()[0]!],
  };
}

function medianOrNull(values: (number | null)[]): number | null {
  const present = values.filter((v): v is number => v !== null);
  return present.length === values.length && present.length > 0 ? median(present) : null;
}

/** A run's records per second. */
export function runRate(run: RunResult): number {
  return (run.records * 1000) / run.elapsedMs;
}

/** The line `name`: the median of the run-by-run ratios `a[i] / b[i]` (none when either side has no runs). */
export function pairedHeadline(name: string, a: readonly number[], b: readonly number[], detail: string): Headline[] {
  return a.length > 0 && b.length > 0 ? [{ name, value: pairedRatio(a, b), detail }] : [];
}

/** The medians of `runs`, each figure taken separately. */
export function figures(config: BenchConfig, runs: RunResult[]): Figures {
  const rates = runs.map(runRate);
  const recordsPerSec = median(rates);
  return {
    recordsPerSec,
    mbPerSec: (recordsPerSec * config.recordSize) / 1e6,
    drops: median(runs.map((r) => r.drops)),
    wakeupsPerRecord: medianOrNull(runs.map((r) => (r.wakeups === null ? null : r.wakeups / Math.max(1, r.records)))),
    lockWaits: medianOrNull(runs.map((r) => r.lockWaits)),
    producerUsPerRecord: medianOrNull(runs.map((r) => r.producerUsPerRecord)),
    latencyP50Us: medianOrNull(runs.map((r) => r.latency?.p50Us ?? null)),
    latencyP99Us: medianOrNull(runs.map((r) => r.latency?.p99Us ?? null)),
    consumerNsPerRecord: medianOrNull(runs.map((r) => r.consumerNsPerRecord)),
  };
}

/**
 * Sets each cell's ratio to the baseline contender's records/s with the same
 * producers and record size (from the same scenario where there is one).
 */
export function addRatios(cells: CellReport[], baseline: string): void {
  const bases = cells.filter((c) => c.contender === baseline && c.median !== null);
  for (const cell of cells) {
    if (cell.median === null) continue;
    const same = bases.filter((b) => b.config.producers === cell.config.producers && b.config.recordSize === cell.config.recordSize);
    const base = same.find((b) => b.config.scenario === cell.config.scenario) ?? same[0];
    cell.ratio = base ? cell.median.recordsPerSec / base.median!.recordsPerSec : null;
  }
}

/** The project's tracked ratios that this run has the figures for. */
export function headline(cells: CellReport[], micro: MicroResult[], pairs: readonly MicroPair[]): Headline[] {
  const rate = (scenario: string, contender: string, producers = 1, size = 64): number | null =>
    cells.find((c) => c.config.scenario === scenario && c.contender === contender && c.config.producers === producers && c.config.recordSize === size)
      ?.median?.recordsPerSec ?? null;
  const lines: Headline[] = [];
  const add = (name: string, a: number | null, b: number | null, detail: string): void => {
    if (a !== null && b !== null && b > 0) lines.push({ name, value: a / b, detail });
  };
  const raw = 'wasm-ringbuf raw lock';
  const cas = 'wasm-ringbuf raw cas';
  const ring1 = rate('producers', raw);
  add('1 producer, 64 B, adaptive: wasm-ringbuf ÷ postMessage', ring1, rate('producers', 'postMessage'), 'raw path, lock; postMessage one message per record');
  add('1 producer, 64 B, adaptive: wasm-ringbuf ÷ postMessage batched', ring1, rate('producers', 'postMessage batched'), '64 records per transferred message');
  add('1 producer, 64 B: wasm-ringbuf (adaptive) ÷ ringbuf.js', ring1, rate('no-wakeup', 'ringbuf.js'), 'ringbuf.js has no wakeup: its consumer drains and sleeps 1 ms when empty');
  add('1 producer, 64 B: wasm-ringbuf (NO_WAKEUP) ÷ ringbuf.js', rate('no-wakeup', raw), rate('no-wakeup', 'ringbuf.js'), 'both drained the same way');
  // run by run, against the one-thread cell of the same pass (solo.ts)
  const runsOf = (scenario: string, contender: string): number[] =>
    cells.find((c) => c.config.scenario === scenario && c.contender === contender && c.config.producers === 1 && c.config.recordSize === 64)
      ?.runs.map(runRate) ?? [];
  const one = runsOf('producers', wasmRawOneThread.name);
  lines.push(...pairedHeadline('1 producer, 64 B: cross-thread ÷ single-thread produce rate', runsOf('producers', raw), one,
    'reserveRaw + copy + submitRaw on one thread alone (the one-thread cell), run by run'));
  lines.push(...pairedHeadline('1 producer, 64 B: bare SPSC ÷ single-thread produce rate', runsOf('no-wakeup', 'bare SPSC'), one,
    'the line above for the simplest pipe between two threads (its consumer spins, so on 2 cores it competes with the producer)'));
  add('1 producer, 64 B: wasm-ringbuf (adaptive) ÷ bare SPSC', ring1, rate('no-wakeup', 'bare SPSC'),
    'the simplest pipe: a length word, the payload, one position store; its consumer spins');
  add('adaptive ÷ NO_WAKEUP throughput, 1 producer', ring1, rate('no-wakeup', raw), 'the adaptive rule\'s cost when the consumer keeps up');
  const wake = cells.find((c) => c.config.scenario === 'producers' && c.contender === raw && c.config.producers === 1)?.median?.wakeupsPerRecord;
  if (wake !== undefined && wake !== null) lines.push({ name: 'adaptive wakeups per 1000 records, 1 producer', value: wake * 1000, detail: 'rb.stats().wakeups ÷ records' });
  add('2 producers ÷ 1 producer, aggregate, adaptive', rate('producers', raw, 2), ring1, 'producer lock');
  add('4 producers ÷ 1 producer, aggregate, adaptive', rate('producers', raw, 4), ring1, 'producer lock');
  for (const [scenario, p] of [['producers', 1], ['producers', 2], ['no-wakeup', 1], ['no-wakeup', 2]] as const) {
    add(`cas ÷ lock, ${p} producer${p > 1 ? 's' : ''}, ${scenario === 'producers' ? 'adaptive' : 'NO_WAKEUP'}`, rate(scenario, cas, p), rate(scenario, raw, p), 'lock-free claim over the producer lock');
  }
  for (const p of [1, 2]) {
    add(`js-twin ÷ wasm-ringbuf, ${p} producer${p > 1 ? 's' : ''}, adaptive`, rate('producers', 'js-twin raw lock', p), rate('producers', raw, p),
      'the plain-JavaScript twin of the protocol over the wasm core, records/s');
  }
  // two tasks timed in alternation (micro.ts): the median of the batch-by-batch ratios
  const paired = (name: string, a: string, b: string, detail: string): void => {
    const pair = pairs.find((p) => p.a === a && p.b === b);
    if (pair !== undefined) lines.push({ name, value: pair.ratio, detail: `${detail}; batches in alternation` });
  };
  paired('js-twin ÷ wasm-ringbuf, single-thread produce ns/op', TWIN_PRODUCE_TASK, PRODUCE_TASK, 'reserveRaw + copy + submitRaw, 64 B');
  paired('js-twin ÷ wasm-ringbuf, single-thread consume ns/record', TWIN_CONSUME_TASK, CONSUME_TASK, 'consume of 64 B records');
  paired('reserveBlocking() ÷ reserve(), 64 B, one thread, ns/op', BLOCKING_TASK, RESERVE_TASK, 'with room at the first try, each followed by data.set + submit');
  paired('output(), 64 B, one thread: single-producer ring ÷ shared ring, ns/op', SINGLE_OUTPUT_TASK, OUTPUT_TASK, 'one wasm call (outputAt) against reserve + commit');
  paired('output(), 64 B, one thread, single-producer ring ÷ its two bare wasm calls, ns/op', SINGLE_OUTPUT_TASK, SINGLE_CALLS_TASK,
    'the API with its checks, one call, against reserve + copy + commit without checks');
  const copy = micro.find((m) => m.name === COPY_TASK);
  const big = cells.find((c) => c.config.scenario === 'sizes' && c.contender === raw && c.config.recordSize === 4096)?.median?.mbPerSec ?? null;
  add('4 KiB records: wasm-ringbuf MB/s ÷ memcpy MB/s', big, copy ? (copy.opsPerSec * 4096) / 1e6 : null, 'memcpy: Uint8Array.set of 4096 B into shared memory, one thread');
  return lines;
}

/** A Markdown table; `align` has one letter per column, `l` or `r` (default: the first left, the others right). */
export function mdTable(head: string[], rows: (string | number)[][], align = `l${'r'.repeat(head.length - 1)}`): string[] {
  const line = (cells: (string | number)[]): string => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map((_, i) => (align[i] === 'l' ? '---' : '---:'))), ...rows.map(line)];
}

/** Records (or operations) per second, short. */
export function rate(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(0)} k`;
  return n.toFixed(0);
}

/** `v` to `digits` decimals, or a dash when it was not measured. */
export const fixed = (v: number | null, digits = 1): string => (v !== null && Number.isFinite(v) ? v.toFixed(digits) : '–');
/** A ratio to two decimals. */
export const times = (v: number | null): string => (v !== null && Number.isFinite(v) ? `${v.toFixed(2)}×` : '–');

function small(n: number | null): string {
  if (n === null) return '—';
  if (n === 0) return '0';
  return n < 0.001 ? n.toExponential(1) : n.toFixed(3);
}

function ratio(n: number): string {
  return `${n.toFixed(n >= 10 ? 0 : n >= 1 ? 1 : 2)}×`;
}

function table(cells: CellReport[], baseline: string): string[] {
  return mdTable(['contender', 'producers', 'record', 'wakeup', 'records/s', 'MB/s', 'drops', 'wakeups/record', 'lock waits', `× ${baseline}`],
    cells.map((c) => {
      const head = [c.contender, c.config.producers, `${c.config.recordSize} B`, wakeupLabel(c.config.wakeup)];
      const m = c.median;
      if (m === null) return [...head, '**error**', '', '', '', '', ''];
      return [...head, rate(m.recordsPerSec), m.mbPerSec.toFixed(m.mbPerSec >= 100 ? 0 : 1), Math.round(m.drops),
        small(m.wakeupsPerRecord), m.lockWaits === null ? '—' : Math.round(m.lockWaits), c.ratio === null ? '—' : ratio(c.ratio)];
    }), 'lrrlrrrrrr');
}

/** The sentence naming the matrix cells that ran more than the budget's runs (for a ratio taken run by run), or nothing. */
function moreRuns(cells: readonly CellReport[], runs: number): string {
  const more = cells.filter((c) => c.runs.length > runs);
  if (more.length === 0) return '';
  return ` ${more.map((c) => `\`${c.label}\``).join(', ')} ran ${Math.max(...more.map((c) => c.runs.length))} times, for the headline ratios taken run by run.`;
}

/** The Markdown report. `about` gives each scenario's one-line description, in order. */
export function markdown(report: Report, about: readonly { name: string; about: string }[]): string {
  const { machine: m, budget: b } = report;
  const out = [
    '# wasm-ringbuf benchmarks',
    '',
    ...(report.notice === null ? [] : [`> **${report.notice}**`, '']),
    `${m.cpu}, ${m.cores} cores · Node ${m.node} · ${m.platform} · ${m.date} · load average ${m.load.map((l) => l.toFixed(2)).join(' → ')}`,
    '',
    `Command: \`${report.command}\` (${report.mode} mode: ${b.runs === 1 ? 'one run' : `median of ${b.runs} runs`} per cell; ` +
      `each run sends up to ${b.records.toLocaleString('en-US')} records or stops after ${b.timeLimitMs} ms; ` +
      `every contender gets ${b.ringBytes / 1024} KiB of buffering).` +
      moreRuns(report.cells, b.runs),
    '',
    'Figures are taken at the consumer, on the main thread, from the start barrier to the last record; every record is checked ' +
      '(producer id, sequence). MB = 10^6 bytes of records. Drops: times a producer found no room, slept 50 µs and retried. ' +
      `Wakeups and lock waits come from \`rb.stats()\`. × ${report.baseline}: records/s over ${report.baseline} (one message per record) ` +
      'with the same producers and record size, in this run. postMessage producers keep at most a ring\'s worth of records in flight.',
  ];
  if (report.headline.length > 0) {
    out.push('', '## Headline ratios', '', ...mdTable(['ratio', 'measured', ''], report.headline.map((h) => [h.name, h.value.toFixed(2), h.detail]), 'lrl'));
  }
  for (const s of about) {
    const cells = report.cells.filter((c) => c.config.scenario === s.name);
    if (cells.length === 0) continue;
    out.push('', `## ${s.name}`, '', s.about, '', ...table(cells, report.baseline));
  }
  out.push(...steadyMarkdown(report.steady.cells, report.steady.ratios, report.mode === 'quick'));
  if (report.micro.length > 0) {
    out.push('', '## Single-thread operations (tinybench, median per operation)', '', ...mdTable(['operation', 'ns/op', 'ops/s', 'MB/s', '±%'],
      report.micro.map((r) => [r.name, r.nsPerOp.toFixed(1), rate(r.opsPerSec), r.bytesPerOp === null ? '—' : ((r.opsPerSec * r.bytesPerOp) / 1e6).toFixed(0), r.rme.toFixed(1)])));
  }
  if (report.microPairs.length > 0) {
    out.push('', '### Pairs timed in alternation', '',
      'The ratios the headline gives of two of these tasks: their batches timed in turn, the median of the batch-by-batch ratios. ' +
        'Each task above was timed alone, seconds from the others, so the ratio of two of its lines can differ from these.',
      '', ...mdTable(['pair', 'ratio', 'batch pairs'], report.microPairs.map((p) => [`${p.a} ÷ ${p.b}`, p.ratio.toFixed(2), p.batches])));
  }
  if (report.errors.length > 0) {
    out.push('', '## Errors', '', ...report.errors.map((e) => `- ${e}`));
  }
  out.push('', `${report.refused.length} contender/configuration pairs were refused by the contender's validate() (reasons in results.json).`, '');
  return out.join('\n');
}
