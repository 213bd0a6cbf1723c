// Producers alone: what claiming space costs when producers contend for it,
// with no consumer running beside them. Each run's producer workers write
// their records into a ring big enough for all of them, as fast as they go,
// and the main thread reads and checks every record only after they stopped
// (untimed). One producer and two alternate run by run (ABBA), for the
// producer lock and the lock-free claim (`claim: 'cas'`), with the README's
// calls (reserveBlocking → data.set → submit) and the raw ones. On a machine
// with two cores this is the only place where two producers get a core each:
// in the saturation cells the consumer takes its share of the same two
// cores. The ring is reused from run to run, after two untimed runs that
// touch all of its pages (a first write to a page costs a page fault).

import { RingBuffer, RingBufferConsumer, type RingBufferHandle } from 'wasm-ringbuf';
import { ringStride } from '../config.js';
import { emitter, type Api } from '../contenders/wasm-ring.js';
import { RecordTemplate, Verifier, atBarrier, firstFailure, release, spawn, waitForReady, type Spawned } from '../harness.js';
import { median, pairedRatio, withTimeout, type StepOptions } from '../util.js';

const RECORD = 64;
/** Time allowed for a run's workers to start and finish. */
const RUN_TIMEOUT_MS = 60_000;
/** The configurations, in the order they run. */
const CONFIGS: readonly { claim: 'lock' | 'cas'; api: Api }[] = [
  { claim: 'lock', api: 'blocking' }, { claim: 'lock', api: 'raw' }, { claim: 'cas', api: 'blocking' }, { claim: 'cas', api: 'raw' },
];
/** What each configuration's row names its producer calls. */
const CALLS: Partial<Record<Api, string>> = { blocking: 'reserveBlocking → data.set → submit', raw: 'reserveRaw → copy → submitRaw' };

/** Data of the 'contention-producer' worker role. */
interface ContentionData {
  handle: RingBufferHandle;
  api: Api;
  index: number;
  quota: number;
  /** The start barrier (harness.ts atBarrier()). */
  control: SharedArrayBuffer;
  /** Float64Array: each producer's first and last clock reading (timeOrigin + now), at 2 × index. */
  out: SharedArrayBuffer;
}

/** Worker role 'contention-producer': `quota` records with `api`, timed from the GO store to the last. */
export async function contentionProducer(data: ContentionData): Promise<void> {
  const rb = await RingBuffer.attach(data.handle);
  const write = emitter(rb, data.api);
  const record = new RecordTemplate(RECORD, data.index);
  atBarrier(new Int32Array(data.control));
  const t0 = performance.timeOrigin + performance.now();
  for (let seq = 0; seq < data.quota; seq++) {
    if (!write(record.stamp(seq), 0)) throw new Error(`producer ${data.index}: record ${seq} found no room in a ring sized for every record`);
  }
  const out = new Float64Array(data.out);
  out[2 * data.index] = t0;
  out[2 * data.index + 1] = performance.timeOrigin + performance.now();
  rb.close(); // its producer id back to the ring, which the next runs reuse
}

/**
 * Reads every record in `rb` and checks them: `quota` from each of
 * `producers`, each producer's in sequence, none missing or repeated.
 * Throws otherwise. The ring has no other consumer meanwhile.
 */
export function drainAndCheck(rb: RingBuffer, producers: number, quota: number): void {
  const words = new Uint32Array(rb.memory.buffer);
  const verifier = new Verifier(producers);
  const consumer = new RingBufferConsumer().addRaw(rb, (_bytes, offset) => verifier.record(words[offset >> 2]!, words[(offset >> 2) + 1]!));
  try {
    while (consumer.consume() > 0 && verifier.error === null);
  } finally {
    consumer.close();
  }
  if (verifier.error !== null) throw new Error(verifier.error);
  for (let i = 0; i < producers; i++) {
    if (verifier.received(i) !== quota) throw new Error(`producer ${i}: ${verifier.received(i)} records read back, ${quota} written`);
  }
}

/** One run: `producers` workers write `records` in all into `rb`; returns records/s and the run's lock waits. */
async function oneRun(rb: RingBuffer, api: Api, producers: number, records: number): Promise<{ rate: number; lockWaits: number }> {
  const quota = Math.floor(records / producers);
  const control = new SharedArrayBuffer(8);
  const out = new SharedArrayBuffer(16 * producers);
  const ctl = new Int32Array(control);
  const lockWaits = rb.stats().lockWaits;
  const workers: Spawned[] = [];
  try {
    for (let index = 0; index < producers; index++) {
      const data: ContentionData = { handle: rb.handle, api, index, quota, control, out };
      workers.push(spawn('contention-producer', data));
    }
    const failed = firstFailure(workers);
    await Promise.race([waitForReady(ctl, producers), failed]);
    release(ctl);
    await withTimeout(Promise.race([Promise.all(workers.map((w) => w.exited)), failed]), RUN_TIMEOUT_MS, `${producers} producer(s) writing ${records} records`);
  } finally {
    await Promise.all(workers.map((w) => w.worker.terminate()));
  }
  drainAndCheck(rb, producers, quota);
  const times = new Float64Array(out);
  let start = Infinity;
  let end = -Infinity;
  for (let i = 0; i < producers; i++) {
    start = Math.min(start, times[2 * i]!);
    end = Math.max(end, times[2 * i + 1]!);
  }
  return { rate: (quota * producers * 1000) / (end - start), lockWaits: rb.stats().lockWaits - lockWaits };
}

/** One configuration: its producer calls and claim, and what one and two producers made of them. */
export interface ContentionRow {
  claim: 'lock' | 'cas';
  calls: string;
  /** Records/s, median of the runs. */
  oneProducer: number;
  twoProducers: number;
  /** Two producers' aggregate records/s ÷ one producer's, run by run, median. */
  ratio: number;
  /** Sleeps on the producer lock per record, two producers (median of the runs). */
  lockWaitsPerRecord: number;
}

export interface ContentionResult {
  recordSize: number;
  ringBytes: number;
  recordsPerRun: number;
  runs: number;
  rows: ContentionRow[];
}

/** Producers alone, one and two, for each configuration. */
export async function runContention(options: StepOptions): Promise<ContentionResult> {
  const runs = options.quick ? 2 : 8;
  const ringBytes = options.quick ? 1 << 22 : 1 << 26;
  // a tenth of the ring left over: no write ever waits for room
  const records = 2 * Math.floor((0.45 * ringBytes) / ringStride(RECORD));
  const rows: ContentionRow[] = [];
  for (const [c, { claim, api }] of CONFIGS.entries()) {
    const rb = await RingBuffer.create({ size: ringBytes, claim });
    const what = `${claim}, ${api}`;
    for (let i = 0; i < 2; i++) await oneRun(rb, api, 1, records); // every page of the ring touched once
    const rates: Record<1 | 2, number[]> = { 1: [], 2: [] };
    const waits: number[] = [];
    for (let r = 0; r < runs; r++) {
      for (const producers of (r % 2 === 0 ? [1, 2] : [2, 1]) as (1 | 2)[]) {
        options.progress?.(`contention · [${c + 1}/${CONFIGS.length}] ${what} · run ${r + 1}/${runs} · ${producers}p`);
        const run = await oneRun(rb, api, producers, records);
        rates[producers].push(run.rate);
        if (producers === 2) waits.push(run.lockWaits / records);
      }
    }
    rb.close();
    rows.push({
      claim, calls: CALLS[api] ?? api, oneProducer: median(rates[1]), twoProducers: median(rates[2]),
      ratio: pairedRatio(rates[2], rates[1]), lockWaitsPerRecord: median(waits),
    });
  }
  return { recordSize: RECORD, ringBytes, recordsPerRun: records, runs, rows };
}
