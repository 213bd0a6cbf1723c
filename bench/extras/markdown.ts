// Markdown tables of the extra measurements, one function per section, so
// that bench/report.ts can place each where it belongs.

import type { AllocResult } from './alloc.js';
import type { B2bResult } from './b2b.js';
import type { BurstResult } from './burst.js';
import type { ContentionResult } from './contention.js';
import type { LatencyResult } from './latency.js';
import { fixed, mdTable, rate, times, type Machine } from '../report.js';

/** Everything bench/extras.ts measured; a section is null when it failed or was not run. */
export interface ExtrasReport {
  /** Set on a quick run: its figures are a smoke test. */
  notice: string | null;
  machine: Machine;
  mode: 'full' | 'quick';
  command: string;
  latency: LatencyResult | null;
  allocation: AllocResult | null;
  burst: BurstResult | null;
  backToBack: B2bResult | null;
  contention: ContentionResult | null;
  errors: string[];
}

const table = (head: string[], rows: (string | number)[][]): string => mdTable(head, rows).join('\n');
const f = fixed;
const x = times;
const pct = (v: number): string => (Number.isFinite(v) ? `${(v * 100).toFixed(1)} %` : '–');

export function latencyTable(r: LatencyResult): string {
  return `### Wakeup latency (commit → callback)\n\n` +
    `One record at a time, default (adaptive) flags, the consumer asleep (the producer idles ${r.gapMs} ms after each ack); ` +
    `send time stamped just before the commit / postMessage / notify. The floor rows are a bare \`Atomics.notify\` of a word the receiver waits on, the mechanism the ring's consumer sleeps in: no path from a worker to a sleeping thread is faster. Medians over ${r.runs} run(s) of each run's percentiles, ${r.samplesPerRun} samples per run ` +
    `(the first 10 % dropped as warm-up). Clocks of the threads calibrated to within ${f(r.clock.maxRttUs / 2, 2)} µs (largest offset corrected: ${f(r.clock.maxOffsetUs, 2)} µs).\n\n` +
    table(['path', 'consumer', 'p50 µs', 'p90 µs', 'p99 µs', 'p50 / postMessage p50', 'wakeups per record'],
      r.rows.map((row) => [row.name, row.consumer, f(row.p50Us), f(row.p90Us), f(row.p99Us), x(row.p50VsPostMessage),
        row.wakeupsPerRecord === null ? '–' : f(row.wakeupsPerRecord, 3)]));
}

export function allocTable(r: AllocResult): string {
  return `### Heap allocation per record\n\n` +
    `Heap growth (\`v8.getHeapStatistics().used_heap_size\` of the thread's isolate) over ${r.recordsPerRound.toLocaleString('en-US')} records of ${r.recordSize} B, ` +
    `GC forced before each window and none during it (checked with \`v8.GCProfiler\`; node ${r.flags.join(' ')}); median over the clean rounds. ` +
    `The controls show the floor (the window's own overhead, spread over the records) and that a 32-byte object per iteration is seen as such.\n\n` +
    table(['side', 'path', 'bytes / record', 'clean rounds'],
      r.rows.map((row) => [row.side, row.path, f(row.bytesPerRecord, 3), `${row.cleanRounds}/${row.rounds}`]));
}

export function burstTable(r: BurstResult): string {
  const caps = Object.entries(r.capacity.perProducer).map(([n, c]) => `${c} records for each of ${n}`).join(', ');
  return `### Burst absorption: one shared ring vs per-producer rings, same memory\n\n` +
    `${r.totalBytes / 1024} KiB in all: one shared ring (${r.capacity.shared} records of ${r.recordSize} B) or N rings of ${r.totalBytes / 1024}/N KiB with \`singleProducer: true\` (${caps}). ` +
    `Producers burst one at a time (${r.burstsPerProducer} bursts each per size; the next starts once the consumer has drained the last), dropping what finds no room; ` +
    `the consumer polls on the main thread. Drop rate = dropped / attempted, median over ${r.runs} run(s).\n\n` +
    table(['producers', 'burst (records)', 'burst / per-producer capacity', 'drops, shared ring', 'drops, per-producer rings'],
      r.rows.map((row) => [row.producers, row.burst, `${row.burstVsPerProducerCapacity}×`, pct(row.sharedDropRate), pct(row.perProducerDropRate)]));
}

export function b2bTable(r: B2bResult): string {
  return `### Back-to-back (the kernel's \`--rb-b2b\`): the consumer triggers each batch\n\n` +
    `One producer worker writes a batch of ${r.recordSize} B records when triggered and waits; the main-thread consumer takes the whole batch, then triggers the next. ` +
    'Each batch waits for the consumer, so the default wakeup moderation makes every round trip wait out a nap (about 1 ms), unless the producer commits the last record of the batch with `BPF_RB_FORCE_WAKEUP`, which ends the nap (the FORCE row); `napMs: 0` arms after every pass instead. ' +
    `${r.timeLimitMs} ms per run, medians of ${r.runs}; ratios run by run.\n\n` +
    table(['contender', 'batch', 'records/s', 'round trips/s', 'ratio to postMessage', 'ratio to batched postMessage'],
      r.rows.map((row) => [row.contender, row.batch, rate(row.recordsPerSec), rate(row.batchesPerSec), x(row.vsPostMessage), x(row.vsBatched)]));
}

export function contentionTable(r: ContentionResult): string {
  return `### Producers alone: one and two producers contending for the claim, no consumer beside them\n\n` +
    `Each run, producer workers write ${r.recordsPerRun.toLocaleString('en-US')} records of ${r.recordSize} B in all, as fast as they go, into a ${r.ringBytes / 2 ** 20} MiB ring that holds them all, with flags 0; ` +
    'the main thread reads back and checks every record after they stopped (untimed). Records/s from the first producer\'s start to the last one\'s end. ' +
    'On two cores, this is where two producers each have a core: in the saturation cells the consumer shares them. ' +
    `One and two producers alternate run by run (ABBA), ${r.runs} runs each; the ratio is taken run by run, then its median.\n\n` +
    table(['claim', 'producer calls', '1 producer, records/s', '2 producers, records/s', '2 ÷ 1', 'lock sleeps per record, 2 producers'],
      r.rows.map((row) => [row.claim, row.calls, rate(row.oneProducer), rate(row.twoProducers), f(row.ratio, 2), row.claim === 'cas' ? '–' : row.lockWaitsPerRecord.toPrecision(2)]));
}

/** The whole extras report. */
export function extrasMarkdown(r: ExtrasReport): string {
  const m = r.machine;
  const parts = [
    `## Extra measurements (${r.mode})\n\n${r.notice === null ? '' : `> **${r.notice}**\n\n`}${m.cpu} · ${m.cores} cores · Node ${m.node} · ${m.platform} · ${m.date} · load ${m.load.map((l) => l.toFixed(2)).join(' → ')}\n\n\`${r.command}\``,
  ];
  if (r.latency !== null) parts.push(latencyTable(r.latency));
  if (r.allocation !== null) parts.push(allocTable(r.allocation));
  if (r.burst !== null) parts.push(burstTable(r.burst));
  if (r.backToBack !== null) parts.push(b2bTable(r.backToBack));
  if (r.contention !== null) parts.push(contentionTable(r.contention));
  if (r.errors.length > 0) parts.push(`### Errors\n\n${r.errors.map((e) => `- ${e}`).join('\n')}`);
  return `${parts.join('\n\n')}\n`;
}
