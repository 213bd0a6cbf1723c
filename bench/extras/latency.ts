// Wakeup latency: a sleeping consumer, one producer worker committing one
// record at a time with the default (adaptive) flags and waiting until it has
// been consumed (the consumer bumps an ack word; the producer sleeps on it in
// Atomics.wait), then idling `gapMs` so that the consumer is asleep again
// before the next record. Each record carries its send time (taken just
// before the commit); the consumer takes the difference in its callback.
// Next to it, postMessage one-way latency measured the same way: the worker
// posts a message carrying its send time, the receiver takes the difference.
//
// Two placements: the consumer on the main thread (`await poll(-1)`, or a
// 'message' listener), and the consumer in a worker (`pollSync(-1)`, or a
// MessagePort listener between two workers).

import { MessageChannel, parentPort, type MessagePort } from 'node:worker_threads';
import { RingBuffer, RingBufferConsumer, type RingBufferHandle } from 'wasm-ringbuf';
import { spawn, type Spawned } from '../harness.js';
import {
  calibrateMain, calibrateWorker, calibrationBuffer, clock, median, percentile, withTimeout, type StepOptions,
} from '../util.js';

/** Control words (Int32Array indexes) shared by the main thread and the workers of one run. */
const ACK = 0; // records consumed so far
const NAP = 1; // never written: the producer sleeps on it for the gap
const GO = 2; // 1: start

type Transport = 'ring' | 'pm';
type Placement = 'main' | 'worker';

/** One row of the latency table: medians over runs of each run's percentiles. */
export interface LatencyRow {
  name: string;
  transport: 'wasm-ringbuf' | 'postMessage';
  consumer: 'main thread' | 'worker';
  /** Samples per run kept (after the warm-up ones). */
  samples: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  /** Wakeups the ring sent per record (1 means the consumer was asleep at every commit), or null. */
  wakeupsPerRecord: number | null;
  /** p50 over the postMessage p50 with the same consumer placement, in the same runs. */
  p50VsPostMessage: number;
}

export interface LatencyResult {
  gapMs: number;
  runs: number;
  samplesPerRun: number;
  /** Largest |offset| between a worker's clock and the main thread's (corrected for), and the worst best round trip (the correction's error bound × 2). */
  clock: { maxOffsetUs: number; maxRttUs: number };
  rows: LatencyRow[];
}

/** Data of the 'lat-producer' and 'lat-consumer' worker roles. */
interface RoleData {
  transport: Transport;
  handle: RingBufferHandle | null;
  port: MessagePort | null;
  ctl: SharedArrayBuffer;
  cal: SharedArrayBuffer;
  samples: number;
  gapMs: number;
  /** Consumer role: raw latencies (receiver clock − sender clock), ms. */
  out: SharedArrayBuffer | null;
}

/** Worker role 'lat-producer': sends `samples` stamped records, one at a time. */
export async function latencyProducer(data: RoleData): Promise<void> {
  const ctl = new Int32Array(data.ctl);
  calibrateWorker(data.cal);
  let send: (i: number) => void;
  if (data.transport === 'ring') {
    const rb = await RingBuffer.attach(data.handle!);
    const f64 = new Float64Array(rb.memory.buffer);
    send = (i) => {
      const off = rb.reserveRaw(16);
      if (off === 0) throw new Error('the ring is full, but the consumer acknowledged every record');
      f64[(off >> 3) + 1] = i;
      f64[off >> 3] = clock();
      rb.submitRaw(off, 0); // adaptive wakeup: the consumer is at this record and asleep
    };
  } else {
    const target = data.port ?? parentPort;
    if (target === null) throw new Error('lat-producer runs in a worker');
    send = (i) => {
      const m = new Float64Array(2);
      m[1] = i;
      m[0] = clock();
      target.postMessage(m);
    };
  }
  Atomics.wait(ctl, GO, 0, 30_000);
  for (let i = 0; i < data.samples; i++) {
    Atomics.wait(ctl, NAP, 0, data.gapMs); // let the consumer fall asleep
    send(i);
    // pairs with the ACK store and notify in the consumer
    while (Atomics.load(ctl, ACK) <= i) {
      if (Atomics.wait(ctl, ACK, i, 5000) === 'timed-out') throw new Error(`record ${i} was not consumed within 5 s`);
    }
  }
  data.port?.close();
}

/** Worker role 'lat-consumer': receives `samples` records, writing raw latencies to `out`. */
export async function latencyConsumer(data: RoleData): Promise<void> {
  const ctl = new Int32Array(data.ctl);
  const out = new Float64Array(data.out!);
  calibrateWorker(data.cal);
  let k = 0;
  const took = (sent: number): void => {
    out[k] = clock() - sent;
    k++;
    Atomics.store(ctl, ACK, k);
    Atomics.notify(ctl, ACK); // pairs with the wait on ACK in latencyProducer()
  };
  if (data.transport === 'ring') {
    const rb = await RingBuffer.attach(data.handle!);
    const f64 = new Float64Array(rb.memory.buffer);
    const consumer = new RingBufferConsumer().addRaw(rb, (_bytes, offset) => took(f64[offset >> 3]!));
    const deadline = performance.now() + 60_000;
    while (k < data.samples) {
      consumer.pollSync(1000);
      if (performance.now() > deadline) throw new Error(`only ${k} of ${data.samples} records arrived`);
    }
  } else {
    const port = data.port!;
    await new Promise<void>((resolve) => {
      port.on('message', (m: Float64Array) => {
        took(m[0]!);
        if (k === data.samples) {
          port.close();
          resolve();
        }
      });
    });
  }
}

interface RunOutcome {
  /** Corrected latencies in microseconds, warm-up dropped. */
  us: Float64Array;
  wakeups: number | null;
  offsetsUs: number[];
  rttsUs: number[];
}

async function once(transport: Transport, placement: Placement, samples: number, gapMs: number): Promise<RunOutcome> {
  const ctl = new SharedArrayBuffer(64);
  const ctlI32 = new Int32Array(ctl);
  const rb = transport === 'ring' ? await RingBuffer.create({ size: 65536 }) : null;
  const channel = transport === 'pm' && placement === 'worker' ? new MessageChannel() : null;
  const base = { transport, handle: rb?.handle ?? null, ctl, samples, gapMs };
  const calP = calibrationBuffer();
  const workers: Spawned[] = [];
  const producer = spawn('lat-producer', { ...base, cal: calP, port: channel?.port1 ?? null, out: null }, channel ? [channel.port1] : []);
  workers.push(producer);
  let calC: SharedArrayBuffer | null = null;
  let out: Float64Array;
  let consumerWorker: Spawned | null = null;
  if (placement === 'worker') {
    calC = calibrationBuffer();
    const outSab = new SharedArrayBuffer(8 * samples);
    out = new Float64Array(outSab);
    consumerWorker = spawn('lat-consumer', { ...base, cal: calC, port: channel?.port2 ?? null, out: outSab }, channel ? [channel.port2] : []);
    workers.push(consumerWorker);
  } else {
    out = new Float64Array(samples);
  }
  try {
    const p = calibrateMain(calP);
    const c = calC !== null ? calibrateMain(calC) : { offsetMs: 0, rttUs: 0 };
    let k = 0;
    const took = (sent: number): void => {
      out[k] = clock() - sent;
      k++;
      Atomics.store(ctlI32, ACK, k);
      Atomics.notify(ctlI32, ACK);
    };
    let failed: unknown = null;
    for (const w of workers) w.exited.catch((e: unknown) => (failed ??= e));
    const start = (): void => {
      Atomics.store(ctlI32, GO, 1);
      Atomics.notify(ctlI32, GO);
    };
    if (placement === 'worker') {
      start();
      await withTimeout(Promise.all(workers.map((w) => w.exited)), 120_000, 'latency run');
    } else if (rb !== null) {
      const f64 = new Float64Array(rb.memory.buffer);
      const consumer = new RingBufferConsumer().addRaw(rb, (_bytes, offset) => took(f64[offset >> 3]!));
      start();
      const deadline = performance.now() + 120_000;
      while (k < samples) {
        await consumer.poll(1000);
        if (failed !== null) throw failed;
        if (performance.now() > deadline) throw new Error(`latency run: ${k} of ${samples} records in 120 s`);
      }
    } else {
      const done = new Promise<void>((resolve) => {
        producer.worker.on('message', (m: Float64Array) => {
          took(m[0]!);
          if (k === samples) resolve();
        });
      });
      start();
      await withTimeout(Promise.race([done, producer.exited.then(() => done)]), 120_000, 'latency run');
    }
    await withTimeout(Promise.all(workers.map((w) => w.exited)), 30_000, 'latency workers');
    const skip = Math.max(20, Math.floor(samples / 10));
    const us = new Float64Array(samples - skip);
    for (let i = skip; i < samples; i++) us[i - skip] = (out[i]! - c.offsetMs + p.offsetMs) * 1000;
    return {
      us,
      wakeups: rb !== null ? rb.stats().wakeups : null,
      offsetsUs: [p.offsetMs * 1000, c.offsetMs * 1000],
      rttsUs: placement === 'worker' ? [p.rttUs, c.rttUs] : [p.rttUs],
    };
  } finally {
    await Promise.all(workers.map((w) => w.worker.terminate()));
  }
}

const CASES: { name: string; transport: Transport; placement: Placement }[] = [
  { name: 'wasm-ringbuf → main thread, await poll(-1)', transport: 'ring', placement: 'main' },
  { name: 'postMessage → main thread', transport: 'pm', placement: 'main' },
  { name: 'wasm-ringbuf → worker, pollSync(-1)', transport: 'ring', placement: 'worker' },
  { name: 'postMessage → worker (MessagePort)', transport: 'pm', placement: 'worker' },
];

/**
 * Measures wakeup latency (commit → callback) against postMessage one-way
 * latency, both consumer placements, in round-robin runs.
 */
export async function runWakeupLatency(options: StepOptions): Promise<LatencyResult> {
  const runs = options.quick ? 1 : 3;
  const samples = options.quick ? 300 : 2000;
  const gapMs = 0.5;
  const per = CASES.map(() => ({ p50: [] as number[], p90: [] as number[], p99: [] as number[], wakeups: [] as number[], kept: 0 }));
  let maxOffsetUs = 0;
  let maxRttUs = 0;
  for (let run = 1; run <= runs; run++) {
    for (const [i, c] of CASES.entries()) {
      options.progress?.(`latency · run ${run}/${runs} · ${c.name}`);
      const r = await once(c.transport, c.placement, samples, gapMs);
      const slot = per[i]!;
      slot.p50.push(percentile(r.us, 50));
      slot.p90.push(percentile(r.us, 90));
      slot.p99.push(percentile(r.us, 99));
      if (r.wakeups !== null) slot.wakeups.push(r.wakeups / samples);
      slot.kept = r.us.length;
      for (const o of r.offsetsUs) maxOffsetUs = Math.max(maxOffsetUs, Math.abs(o));
      for (const t of r.rttsUs) maxRttUs = Math.max(maxRttUs, t);
    }
  }
  const rows: LatencyRow[] = CASES.map((c, i) => {
    const s = per[i]!;
    return {
      name: c.name,
      transport: c.transport === 'ring' ? 'wasm-ringbuf' : 'postMessage',
      consumer: c.placement === 'main' ? 'main thread' : 'worker',
      samples: s.kept,
      p50Us: median(s.p50),
      p90Us: median(s.p90),
      p99Us: median(s.p99),
      wakeupsPerRecord: s.wakeups.length > 0 ? median(s.wakeups) : null,
      p50VsPostMessage: NaN,
    };
  });
  // ratios run by run (the same minute of a noisy machine), then their median
  for (const [i, row] of rows.entries()) {
    const j = rows.findIndex((r) => r.transport === 'postMessage' && r.consumer === row.consumer);
    const mine = per[i]!.p50;
    const theirs = per[j]?.p50;
    if (theirs !== undefined) row.p50VsPostMessage = median(mine.map((v, run) => v / theirs[run]!));
  }
  return { gapMs, runs, samplesPerRun: samples, clock: { maxOffsetUs, maxRttUs }, rows };
}
