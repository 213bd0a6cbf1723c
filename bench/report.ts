// results.md and results.json of a run: the machine, the command and the
// date; the headline ratios; a table per scenario with ratios against the
// baseline (postMessage) measured in the same run; the micro-benchmarks.

import os from 'node:os';
import { headlineLines, times, type HeadlineResult } from './headline.js';
import type { MicroResult } from './micro.js';
import { paceLabel, scenarios, type Budget, type CellReport, type Figures } from './scenarios.js';

/** The machine the figures come from. */
export interface Machine {
  cpu: string;
  cores: number;
  /** The JavaScript runtime and its version: `Node v20.20.2`, `Deno 2.9.6`, `Bun 1.4.5`. */
  engine: string;
  platform: string;
  date: string;
  /** 1-minute load average when the run began and when it ended: other work on a shared machine skews every figure. */
  load: number[];
}

/** The runtime this runs in. */
export function engine(): string {
  const g = globalThis as { Deno?: { version: { deno: string } }; Bun?: { version: string } };
  if (g.Deno !== undefined) return `Deno ${g.Deno.version.deno}`;
  if (g.Bun !== undefined) return `Bun ${g.Bun.version}`;
  return `Node ${process.version}`;
}

/** Describes this machine, now. */
export function machine(): Machine {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    engine: engine(),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    date: new Date().toISOString(),
    load: [os.loadavg()[0]!],
  };
}

/** The one-line description of `m`. */
export function machineLine(m: Machine): string {
  return `${m.cpu}, ${m.cores} cores · ${m.engine} · ${m.platform} · ${m.date} · load average ${m.load.map((l) => l.toFixed(2)).join(' → ')}`;
}

/** The whole report, as written to results.json. */
export interface Report {
  mode: 'full' | 'quick';
  command: string;
  machine: Machine;
  budget: Budget;
  baseline: string;
  headline: HeadlineResult | null;
  cells: CellReport[];
  refused: { label: string; reason: string }[];
  micro: MicroResult[];
  errors: string[];
}

/** A Markdown table; `align` has one letter per column, `l` or `r` (default: the first left, the others right). */
function mdTable(head: string[], rows: (string | number)[][], align = `l${'r'.repeat(head.length - 1)}`): string[] {
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
const fixed = (v: number | null, digits = 1): string => (v !== null && Number.isFinite(v) ? v.toFixed(digits) : '–');
const small = (v: number | null): string => (v === null ? '–' : v === 0 ? '0' : v.toPrecision(2));

/** What each kind of scenario shows: its columns, each from a cell and its baseline's figures. */
type Column = [head: string, value: (m: Figures, base: Figures | null) => string | number];
const ratioTo =
  (f: (m: Figures) => number | null) =>
  (m: Figures, base: Figures | null): string => {
    const a = f(m);
    const b = base === null ? null : f(base);
    return a === null || b === null ? '–' : times(a / b);
  };
const COLUMNS: Record<'free' | 'rate' | 'idle' | 'b2b', Column[]> = {
  free: [
    ['records/s', (m) => rate(m.recordsPerSec)],
    ['MB/s', (m) => m.mbPerSec.toFixed(0)],
    ['× postMessage', ratioTo((m) => m.recordsPerSec)],
    ['drops', (m) => Math.round(m.drops)],
    ['wakeups/record', (m) => small(m.wakeupsPerRecord)],
  ],
  rate: [
    ['records/s', (m) => rate(m.recordsPerSec)],
    ['producer µs/record', (m) => fixed(m.producerUsPerRecord, 3)],
    ['cost × postMessage', ratioTo((m) => m.producerUsPerRecord)],
    ['wakeups/record', (m) => small(m.wakeupsPerRecord)],
    ['latency p50 µs', (m) => fixed(m.p50Us)],
    ['p99 µs', (m) => fixed(m.p99Us)],
    ['refused', (m) => Math.round(m.drops)],
  ],
  idle: [
    ['latency p50 µs', (m) => fixed(m.p50Us)],
    ['p99 µs', (m) => fixed(m.p99Us)],
    ['p50 × postMessage', ratioTo((m) => m.p50Us)],
    ['wakeups/record', (m) => small(m.wakeupsPerRecord)],
  ],
  b2b: [
    ['round trips/s', (m) => rate(m.recordsPerSec)],
    ['× postMessage', ratioTo((m) => m.recordsPerSec)],
    ['round trip p50 µs', (m) => fixed(m.p50Us)],
    ['p99 µs', (m) => fixed(m.p99Us)],
  ],
};

/** The table of one scenario's cells. */
function table(cells: readonly CellReport[], baseline: string): string[] {
  const first = cells[0]!.config;
  const kind =
    first.pace === 'free' || first.pace === 'b2b' ? first.pace : cells[0]!.config.scenario === 'idle' ? 'idle' : 'rate';
  const columns = COLUMNS[kind];
  const rows = cells.map((c) => {
    const head = [c.contender, c.config.producers, c.config.wakeup, paceLabel(c.config.pace)];
    if (c.median === null) return [...head, '**error**', ...columns.slice(1).map(() => ''), ''];
    const base =
      cells.find(
        (b) =>
          b.contender === baseline &&
          b.config.producers === c.config.producers &&
          paceLabel(b.config.pace) === paceLabel(c.config.pace),
      )?.median ?? null;
    return [...head, ...columns.map(([, value]) => value(c.median!, base)), c.note];
  });
  return mdTable(
    ['contender', 'producers', 'wakeup', 'pace', ...columns.map(([h]) => h), 'note'],
    rows,
    `llll${'r'.repeat(columns.length)}l`,
  );
}

/** The Markdown report. */
export function markdown(r: Report): string {
  const b = r.budget;
  const out = [
    '# wasm-ringbuf benchmarks',
    '',
    ...(r.mode === 'quick'
      ? ['> **Quick run (--quick): a smoke test, not a measurement; one short run per cell.**', '']
      : []),
    machineLine(r.machine),
    '',
    `Command: \`${r.command}\` (${r.mode} mode: the median of ${b.runs} run${b.runs > 1 ? 's' : ''} per cell, the cells run round-robin; ` +
      `a free run lasts ${b.runMs} ms or ${b.records.toLocaleString('en-US')} records, a paced one ${b.pacedMs} ms; ` +
      `every contender gets ${b.ringBytes / 1024} KiB of buffering). Generated by bench/run.ts; edit nothing here by hand.`,
    '',
    'Every record is checked at the consumer, on the main thread (producer id, sequence); figures run from the start barrier to the last record. ' +
      "**wasm-ringbuf** is the README's path: each producer worker calls `reserve()` → `data.set()` → `submit(flags)`, the consumer has a view " +
      'callback and loops on `await consumer.poll()`; with `NO_WAKEUP` it drains instead, sleeping 1 ms when it finds nothing, as do the ringbuf.js ' +
      'cells. Drops: times a producer found no room. Wakeups: from `rb.stats()`; for postMessage, its message events. ' +
      `× ${r.baseline}: over the ${r.baseline} cell with the same producers and pace in this run. MB = 10^6 bytes.`,
  ];
  if (r.headline !== null) {
    out.push(
      '',
      '## Headline ratios',
      '',
      `64 B records as fast as the producers go. Each round runs the two sides of a ratio back to back (A B, then B A), ${r.headline.runMs} ms each; ` +
        "a ratio is the median of its rounds' ratios, and the range shows how far they moved.",
      '',
      ...mdTable(
        ['ratio', 'median', 'min–max', 'rounds', ''],
        r.headline.pairs.map((p) =>
          p.ratio === null
            ? [p.name, '**error**', '', '', p.error ?? '']
            : [p.name, times(p.ratio.median), `${times(p.ratio.min)}–${times(p.ratio.max)}`, p.ratio.n, p.detail],
        ),
        'lrrrl',
      ),
    );
  }
  for (const s of scenarios) {
    const cells = r.cells.filter((c) => c.config.scenario === s.name);
    if (cells.length === 0) continue;
    out.push('', `## ${s.name}`, '', s.about, '', ...table(cells, r.baseline));
  }
  if (r.micro.length > 0) {
    out.push(
      '',
      '## Single-thread calls (tinybench, median per operation)',
      '',
      ...mdTable(
        ['operation', 'ns/op', '±%', 'samples'],
        r.micro.map((m) => [m.name, m.nsPerOp.toFixed(1), m.rme.toFixed(1), m.samples]),
      ),
    );
  }
  if (r.refused.length > 0) {
    const reasons = new Map<string, number>();
    for (const x of r.refused) {
      const key = `${x.label.split('/')[1]}: ${x.reason}`;
      reasons.set(key, (reasons.get(key) ?? 0) + 1);
    }
    out.push(
      '',
      '## Refused by validate()',
      '',
      ...[...reasons].map(([reason, n]) => `- ${reason} (${n} cell${n > 1 ? 's' : ''})`),
    );
  }
  if (r.errors.length > 0) out.push('', '## Errors', '', ...r.errors.map((e) => `- ${e}`));
  return `${out.join('\n')}\n`;
}

/** The headline for the terminal, plain text (a dozen lines); `quick` says it is a smoke test. */
export function headlineText(h: HeadlineResult, m: Machine, quick: boolean): string {
  const busy = Math.max(...m.load) >= m.cores;
  return [
    ...(quick ? ['QUICK RUN (--quick): a smoke test of the harness, not a measurement.'] : []),
    `wasm-ringbuf headline ratios · ${m.cpu}, ${m.cores} cores · ${m.engine} · load average ${m.load.map((l) => l.toFixed(1)).join(' → ')}`,
    ...headlineLines(h),
    `Records/s of 64 B records as fast as the producers go, every record checked. wasm-ringbuf: the README's path (reserve() →`,
    `data.set() → submit() with flags 0; the consumer loops on await consumer.poll()), 1 producer worker unless said. Each round`,
    `runs a ratio's two sides back to back, ${h.runMs} ms each (A B, then B A); a ratio is the median of its rounds' ratios.`,
    ...(h.pairs.some((p) => p.ratio !== null && p.ratio.min < 1 && p.ratio.max > 1)
      ? ['A range that spans 1.00× is a tie on this machine, this time.']
      : []),
    ...(busy
      ? [
          `Other work kept this machine busy (load average ≥ its ${m.cores} cores): the ranges are wide; run again when it is quiet.`,
        ]
      : []),
    'Latency, steady rates, 4 KiB records, PerfBuffer, single-thread calls: npm run bench → bench/results/results.md',
    '',
  ].join('\n');
}
