// Back-to-back, after the kernel's `--rb-b2b`: the consumer triggers each
// batch. One producer worker waits for the trigger, writes K records of 64 B
// as fast as it can, and waits again; the consumer (main thread) takes the
// K records, then triggers the next batch. Nothing overlaps: every batch pays
// a full wakeup round trip, so this measures the per-batch handoff cost plus
// the per-record cost with a cold consumer. The harness's producer loop and
// contenders in the back-to-back pace: wasm-ringbuf (adaptive wakeups,
// `await poll()`), with the default wakeup moderation and with `napMs: 0`,
// against postMessage, one message per record and 64 records per transferred
// Uint8Array. Request/response is where moderation costs: each batch waits
// out a nap, so such a consumer should take `napMs: 0`, or the producer
// should commit the record that ends a batch with BPF_RB_FORCE_WAKEUP (the
// kernel's way to say "deliver now"), which the third ring row does.

import type { BenchConfig } from '../config.js';
import { postMessage, postMessageBatched } from '../contenders/post-message.js';
import { wasmRawLock, wasmRawLockNap0, wasmRing } from '../contenders/wasm-ring.js';
import { runCells } from '../scenarios.js';
import { runRate } from '../report.js';
import { median, pairedRatio, type StepOptions } from '../util.js';

const RECORD = 64;
/** The default moderation, each batch's last record committed with BPF_RB_FORCE_WAKEUP (the others adaptive). */
const forceLast = wasmRing('wasm-ringbuf raw lock, FORCE ends each batch', 'raw', 'lock');
const CONTENDERS = [wasmRawLock, wasmRawLockNap0, forceLast, postMessage, postMessageBatched];

/** One contender at one batch size. */
export interface B2bRow {
  contender: string;
  /** Records per triggered batch. */
  batch: number;
  recordsPerSec: number;
  /** Triggered batches per second (consumer → producer → consumer round trips). */
  batchesPerSec: number;
  /** Records/s over postMessage (one per record) at the same batch size, run by run, median. */
  vsPostMessage: number;
  /** Records/s over batched postMessage, likewise. */
  vsBatched: number;
}

export interface B2bResult {
  recordSize: number;
  runs: number;
  timeLimitMs: number;
  rows: B2bRow[];
}

/** Back-to-back throughput of wasm-ringbuf and postMessage (plain and batched), batches of 64 and 500 records. */
export async function runBackToBack(options: StepOptions, errors: string[]): Promise<B2bResult> {
  const runs = options.quick ? 1 : 3;
  const timeLimitMs = options.quick ? 200 : 1000;
  const batches = [64, 500];
  const cells = batches.flatMap((batch) => CONTENDERS.map((contender) => {
    const config: BenchConfig = {
      scenario: 'b2b', producers: 1, recordSize: RECORD, wakeup: 'adaptive', consume: 'poll', batch: 64,
      ringBytes: 1 << 16, records: 2 ** 31, timeLimitMs, pace: { batch, forceLast: contender === forceLast }, pollMs: -1, full: 'retry',
    };
    return { label: `b2b/${contender.name}/batch ${batch}`, contender, config };
  }));
  const reports = await runCells(cells, runs, (text) => options.progress?.(`b2b · ${text}`), errors);
  const rows: B2bRow[] = [];
  for (const batch of batches) {
    const rates = CONTENDERS.map((c) =>
      reports.find((r) => r.contender === c.name && r.label.endsWith(`/batch ${batch}`))!.runs.map(runRate));
    CONTENDERS.forEach((c, i) => {
      if (rates[i]!.length === 0) return;
      rows.push({
        contender: c.name, batch,
        recordsPerSec: median(rates[i]!),
        batchesPerSec: median(rates[i]!) / batch,
        vsPostMessage: pairedRatio(rates[i]!, rates[CONTENDERS.indexOf(postMessage)]!),
        vsBatched: pairedRatio(rates[i]!, rates[CONTENDERS.indexOf(postMessageBatched)]!),
      });
    });
  }
  return { recordSize: RECORD, runs, timeLimitMs, rows };
}
