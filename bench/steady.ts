// The default path at every rate: the README's pattern, a worker producer
// calling `rb.reserve(64)` → `r.data.set(bytes)` → `r.submit(flags)` at a
// fixed steady rate (a refused record is dropped, as in the README), the
// main thread consuming with a view callback. One producer, 64 B records,
// a 1 MiB ring, 20 k, 200 k and 1 M records/s; each variant below in the same
// run. The producer times its own writes; every record carries its send time
// and the consumer takes its delivery latency.
//
// Beside the rates, the cells the default path is judged by: idle → first
// record (the consumer asleep in `poll(-1)`, one record after a 2 ms pause,
// against postMessage one-way in the same run), saturation (each variant as
// fast as the producer can go, retrying on null), two producers that retry
// on null against one, and the same calls on one thread alone (solo.ts), the
// single-thread rate the cross-thread one is compared with. The two-producer
// cells run again with a raw consumer callback, to show what the view
// callback's consumer takes from producers that share its cores.

import type { BenchConfig, ConsumeMode, Contender, RunResult, Wakeup } from './config.js';
import { wasmRing, type Api } from './contenders/wasm-ring.js';
import { once, type Transport } from './extras/latency.js';
import { fixed, mdTable, pairedHeadline, rate, runRate, type CellReport, type Headline } from './report.js';
import { JUDGED_RUNS, budget, cellLabel, type Cell } from './scenarios.js';
import { solo } from './solo.js';
import { percentile } from './util.js';

/** One way to run the README's path. Add a line to VARIANTS to add one. */
export interface SteadyVariant {
  /** Names the variant in labels and tables. */
  name: string;
  /** What each submit() is given: `'adaptive'` is flags 0. */
  wakeup: Wakeup;
  /** `'poll'`: `await consumer.poll(100)`; `'drain'`: consume, sleep 1 ms when nothing is there. */
  consume: ConsumeMode;
  /** The producer call (contenders/wasm-ring.ts); `'reserve'` when left out. */
  api?: Api;
  /** The consumer constructor's options, passed only when set (`new RingBufferConsumer(rb, cb, options)`). */
  consumerOptions?: object;
  about: string;
}

export const VARIANTS: readonly SteadyVariant[] = [
  { name: 'default', wakeup: 'adaptive', consume: 'poll', about: 'flags 0 (the kernel\'s adaptive wakeup); the consumer loops on `await consumer.poll(100)` with the default wakeup moderation (`napMs` 1)' },
  { name: 'napMs 0', wakeup: 'adaptive', consume: 'poll', consumerOptions: { napMs: 0 }, about: 'as default, with moderation off (`napMs: 0`): the consumer arms after every pass, the kernel\'s exact rule' },
  { name: 'reserveBlocking', wakeup: 'adaptive', consume: 'poll', api: 'blocking', about: 'as default, the producer calling `reserveBlocking()`: it waits for room instead of being refused' },
  { name: 'NO_WAKEUP', wakeup: 'none', consume: 'drain', about: '`BPF_RB_NO_WAKEUP`; the consumer drains and sleeps 1 ms when it finds nothing' },
];

/** The variant the producer-cost and saturation ratios are taken against. */
export const STEADY_BASELINE = 'NO_WAKEUP';
const DEFAULT = 'default';
const BLOCKING = 'reserveBlocking';
/** The saturation cell's calls made on one thread alone: the single-thread produce rate. */
const ONE_THREAD = 'one thread';
/** Records per second, per producer. */
export const RATES = [20_000, 200_000, 1_000_000];
const RECORD = 64;
const POLL_MS = 100;
const IDLE_SAMPLES = 200;
const IDLE_GAP_MS = 2;
/** The scenarios of this section, in report order. */
export const STEADY_SCENARIOS = ['steady', 'saturation', 'idle'];

/**
 * The two-producer cells run again, and their one-producer cells, with the
 * consumer's zero-allocation callback (`addRaw`) instead of the README's view
 * callback: the same producers beside a consumer that makes no view (a new
 * Uint8Array, 96 B) per record. Their ratios tell the producers' contention
 * from the consumer's share of the cores. Those contenders' names end so.
 */
const RAW_CALLBACK = ' + addRaw';
/** Variant `v`'s contender, with the view callback or (`view` false) the raw one. */
function steadyRing(v: SteadyVariant, view: boolean): Contender {
  return wasmRing(view ? v.name : `${v.name}${RAW_CALLBACK}`, v.api ?? 'reserve', 'lock', { view, options: v.consumerOptions });
}
const contenders = new Map(VARIANTS.map((v) => [v.name, steadyRing(v, true)]));

/** Idle → first record: latency.ts's one-at-a-time run, consumer on this thread, the ring written the README's way. */
function idle(name: string, transport: Transport): Contender {
  return {
    name,
    validate: () => null,
    async run(config): Promise<RunResult> {
      const t0 = performance.now();
      const r = await once(transport, 'main', config.records, IDLE_GAP_MS, 'reserve');
      return {
        records: config.records, elapsedMs: performance.now() - t0, drops: 0, wakeups: r.wakeups, lockWaits: null, stopped: false,
        producerUsPerRecord: null, latency: { p50Us: percentile(r.us, 50), p99Us: percentile(r.us, 99) }, consumerNsPerRecord: null,
      };
    },
  };
}

/** Every cell of this section for `quick` (a few hundred ms per rate) or full mode. */
export function steadyCells(quick: boolean): Cell[] {
  const ms = quick ? 300 : 1000;
  const b = budget(quick);
  const cells: Cell[] = [];
  // Every cell of this section: its ratios move most from run to run on a
  // shared machine (two busy producers and a consumer on two cores; one
  // wakeup at a time; a latency p99 that one stall of a few milliseconds on
  // the consumer's thread moves), and its runs are short.
  const judged = quick ? b.runs : JUDGED_RUNS;
  const add = (contender: Contender, config: BenchConfig): void => void cells.push({ label: cellLabel(contender.name, config), contender, config, runs: judged });
  const config = (scenario: string, v: Pick<SteadyVariant, 'wakeup' | 'consume'>, more: Partial<BenchConfig>): BenchConfig => ({
    scenario, producers: 1, recordSize: RECORD, wakeup: v.wakeup, consume: v.consume, pollMs: POLL_MS, batch: b.batch, ringBytes: 1 << 20,
    records: b.records, timeLimitMs: b.timeLimitMs, pace: 'free', full: 'retry', ...more,
  });
  for (const r of RATES) {
    // the time limit only guards a producer that cannot keep the rate
    for (const v of VARIANTS) add(contenders.get(v.name)!, config('steady', v, { pace: { rate: r }, full: 'drop', records: (r * ms) / 1000, timeLimitMs: ms * 1.5 }));
  }
  for (const v of VARIANTS) {
    add(contenders.get(v.name)!, config('saturation', v, {}));
    // the same calls on one thread, right after the cell they are divided into
    if (v.name === DEFAULT) add(solo(ONE_THREAD, 'reserve'), config('saturation', v, {}));
  }
  const def = VARIANTS.find((v) => v.name === DEFAULT)!;
  const blocking = VARIANTS.find((v) => v.name === BLOCKING)!;
  for (const v of [def, blocking]) {
    add(contenders.get(v.name)!, config('saturation', v, { producers: 2 }));
    const raw = steadyRing(v, false);
    for (const producers of [1, 2]) add(raw, config('saturation', v, { producers }));
  }
  for (const [name, transport] of [['wasm-ringbuf', 'ring'], ['postMessage', 'pm']] as const) {
    add(idle(name, transport), config('idle', def, { records: IDLE_SAMPLES }));
  }
  return cells;
}

/** The ratios this section is for, each taken run by run (the same minute of a noisy machine), then the median. */
export function steadyRatios(cells: readonly CellReport[]): Headline[] {
  const find = (scenario: string, contender: string, producers = 1, r?: number): CellReport | undefined =>
    cells.find((c) => c.config.scenario === scenario && c.contender === contender && c.config.producers === producers &&
      (r === undefined || (typeof c.config.pace === 'object' && 'rate' in c.config.pace && c.config.pace.rate === r)));
  const of = (cell: CellReport | undefined, f: (run: RunResult) => number | null): number[] =>
    cell?.runs.map((run) => f(run) ?? NaN) ?? [];
  const lines: Headline[] = [];
  // a figure no run measured (the consumer's CPU time off Linux: bench/util.ts threadCpuNs()) gives no line
  const measured = (xs: number[]): number[] => (xs.every(Number.isNaN) ? [] : xs);
  const add = (name: string, a: number[], b: number[], detail: string): void => void lines.push(...pairedHeadline(name, measured(a), measured(b), detail));
  for (const r of RATES) {
    for (const v of VARIANTS.filter((w) => w.name !== STEADY_BASELINE)) {
      const cost = (run: RunResult): number | null => run.producerUsPerRecord;
      add(`${rate(r)}/s: producer µs per record, ${v.name} ÷ ${STEADY_BASELINE}`, of(find('steady', v.name, 1, r), cost),
        of(find('steady', STEADY_BASELINE, 1, r), cost), 'reserve + data.set + submit, timed in the producer');
    }
  }
  const p50 = (run: RunResult): number | null => run.latency?.p50Us ?? null;
  add('idle → first record p50: wasm-ringbuf ÷ postMessage', of(find('idle', 'wasm-ringbuf'), p50), of(find('idle', 'postMessage'), p50),
    `consumer asleep in poll(-1); one record per ${IDLE_GAP_MS} ms; postMessage one-way`);
  for (const v of VARIANTS.filter((w) => w.name !== STEADY_BASELINE)) {
    add(`saturation: ${v.name} ÷ ${STEADY_BASELINE}, records/s`, of(find('saturation', v.name), runRate),
      of(find('saturation', STEADY_BASELINE), runRate), 'one producer as fast as it goes, retrying on null');
  }
  add(`cross-thread ÷ single-thread produce rate: saturation, ${DEFAULT} ÷ ${ONE_THREAD}`, of(find('saturation', DEFAULT), runRate),
    of(find('saturation', ONE_THREAD), runRate), 'the same reserve + data.set + submit on one thread alone, its consumer\'s passes between batches untimed');
  add(`2 producers ÷ 1 producer, ${DEFAULT}, aggregate records/s`, of(find('saturation', DEFAULT, 2), runRate), of(find('saturation', DEFAULT), runRate),
    'each producer retries on null after a 50 µs sleep');
  add(`2 producers ÷ 1 producer, ${BLOCKING}, aggregate records/s`, of(find('saturation', BLOCKING, 2), runRate), of(find('saturation', BLOCKING), runRate),
    'each producer waits for room in reserveBlocking()');
  for (const name of [DEFAULT, BLOCKING]) {
    const raw = `${name}${RAW_CALLBACK}`;
    add(`2 producers ÷ 1 producer, ${raw}, aggregate records/s`, of(find('saturation', raw, 2), runRate), of(find('saturation', raw), runRate),
      'the same cells with the consumer\'s zero-allocation callback (addRaw) instead of the view callback');
    add(`2 producers, ${name}: view callback ÷ raw callback, records/s`, of(find('saturation', name, 2), runRate), of(find('saturation', raw, 2), runRate),
      'what the README\'s view callback costs two producers that share the machine\'s cores with the consumer');
    const busy = (run: RunResult): number | null => run.consumerNsPerRecord;
    add(`2 producers, ${name}: consumer's CPU ns per record, view callback ÷ raw callback`, of(find('saturation', name, 2), busy), of(find('saturation', raw, 2), busy),
      'the main thread\'s CPU time per record delivered, each callback\'s cell');
  }
  for (const r of RATES) {
    const wakes = (run: RunResult): number | null => (run.wakeups === null ? null : run.wakeups / run.records);
    const w = of(find('steady', DEFAULT, 1, r), wakes).filter((x) => !Number.isNaN(x));
    if (w.length > 0) lines.push({ name: `${rate(r)}/s: wakeups per record, ${DEFAULT}`, value: w.sort((a, b) => a - b)[w.length >> 1]!, detail: 'rb.stats().wakeups ÷ records delivered' });
  }
  return lines;
}

/** The section's Markdown: what runs, every cell, then the ratios. */
export function steadyMarkdown(cells: readonly CellReport[], ratios: readonly Headline[], quick: boolean): string[] {
  if (cells.length === 0) return [];
  const pace = (c: CellReport): string => {
    const p = c.config.pace;
    if (typeof p === 'object' && 'rate' in p) return `${rate(p.rate)}/s`;
    return c.config.scenario === 'idle' ? `1 per ${IDLE_GAP_MS} ms` : 'as fast as it goes';
  };
  const variants = VARIANTS.map((v) => `**${v.name}**: ${v.about}`).join('; ');
  return [
    '', '## steady rate: the README\'s path at a fixed rate', '',
    `One producer worker calls \`rb.reserve(${RECORD})\` → \`r.data.set(bytes)\` → \`r.submit(flags)\` (a refused record is dropped and counted), ` +
      `paced per 1 ms tick, ${quick ? 300 : 1000} ms per rate; 1 MiB ring; the main thread consumes with a view callback. ${variants}. ` +
      'Producer µs/record: time inside the write calls per attempted record, measured in the producer (it includes one clock read, the send-time stamp; ' +
      `the ${ONE_THREAD} cell's: per record written, without a stamp). ` +
      'Consumer ns/record: CPU time of the main thread, the consumer\'s, per record delivered (Linux\'s /proc/thread-self/schedstat; sleeps in poll() and waits for a core not counted). ' +
      'Latency: stamp at the write → the consumer\'s callback (clocks calibrated between the threads), the first 10 % of records left out. ' +
      'Saturation cells retry on null instead; the idle cells send one record at a time after a pause. ' +
      `The ${ONE_THREAD} cell makes the saturation cell's calls in one worker with its consumer, draining between batches of records; its records/s are per second spent writing. ` +
      `The cells named "…${RAW_CALLBACK}" are the ${DEFAULT} and ${BLOCKING} saturation cells again, at 1 and 2 producers, with the consumer's zero-allocation callback (\`addRaw\`) instead of the view callback. ` +
      `${quick ? 'Each' : `Each cell runs ${JUDGED_RUNS} times; each`} ratio below is the median of its run-by-run ratios, each other figure the median of the runs.`,
    '',
    ...mdTable(['scenario', 'variant', 'producers', 'rate', 'records/s', 'producer µs/record', 'consumer ns/record', 'wakeups/record', 'refused', 'latency p50 µs', 'latency p99 µs'],
      cells.map((c) => {
        const m = c.median;
        const head = [c.config.scenario, c.contender, c.config.producers, pace(c)];
        if (m === null) return [...head, '**error**', '', '', '', '', '', ''];
        return [...head, c.config.scenario === 'idle' ? '–' : rate(m.recordsPerSec), fixed(m.producerUsPerRecord, 3), fixed(m.consumerNsPerRecord, 0), fixed(m.wakeupsPerRecord, 3),
          Math.round(m.drops), fixed(m.latencyP50Us), fixed(m.latencyP99Us)];
      }), 'lllrrrrrrrr'),
    '', ...mdTable(['ratio', 'measured', ''], ratios.map((h) => [h.name, Math.abs(h.value) < 0.1 && h.value !== 0 ? h.value.toPrecision(2) : h.value.toFixed(2), h.detail]), 'lrl'),
  ];
}
