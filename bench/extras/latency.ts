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
// 'message' listener), and the consumer in a worker (`pollSync()`, or a
// MessagePort listener between two workers). The ring's producer writes a
// 16-byte record with reserveRaw/submitRaw, or (run.ts's idle cell, the
// README's path) 64 bytes with reserve(), data.set(), submit().
//
// The floor of both: a bare Atomics.notify of a word the receiver waits on
// (Atomics.waitAsync on the main thread, Atomics.wait in a worker), the send
// time in a shared slot beside it. The ring's consumer sleeps this way; Node
// wakes a waitAsync and delivers a message by the same kind of event-loop
// task, so no path from a worker to the main thread can beat this row.

import { MessageChannel, parentPort, type MessagePort } from 'node:worker_threads';
import { RingBuffer, RingBufferConsumer, type RingBufferHandle } from 'wasm-ringbuf';
import { firstFailure, spawn, type Spawned } from '../harness.js';
import {
  calibrateMain, calibrateWorker, calibrationBuffer, clock, median, pairedRatio, percentile, waitFor, withTimeout, type Calibration, type StepOptions,
} from '../util.js';

/** Control words (Int32Array indexes) shared by the main thread and the workers of one run. */
const ACK = 0; // records consumed so far
const NAP = 1; // never written: the producer sleeps on it for the gap
const GO = 2; // 1: start
const SEQ = 3; // the floor's transport: records sent so far (notified)
const SENT = 2; // Float64Array index of the floor's send time (bytes 16..23)

export type Transport = 'ring' | 'pm' | 'notify';
/** The name of each transport in the table. */
const TRANSPORT_NAMES = { ring: 'wasm-ringbuf', pm: 'postMessage', notify: 'Atomics.notify' } as const;
type Placement = 'main' | 'worker';
/** How the ring's producer writes: reserveRaw + submitRaw of 16 bytes, or reserve + data.set + submit of 64. */
export type LatencyApi = 'raw' | 'reserve';

/** One row of the latency table: medians over runs of each run's percentiles. */
export interface LatencyRow {
  name: string;
  transport: (typeof TRANSPORT_NAMES)[Transport];
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
  api: LatencyApi;
  handle: RingBufferHandle | null;
  port: MessagePort | null;
  ctl: SharedArrayBuffer;
  cal: SharedArrayBuffer;
  samples: number;
  gapMs: number;
  /** Raw latencies (receiver clock − sender clock), ms, written by the receiver. */
  out: SharedArrayBuffer;
}

/** The receiver's side: stores each latency in `out` and acknowledges the record. */
function receiver(data: { ctl: SharedArrayBuffer; out: SharedArrayBuffer }): { took: (sent: number) => void; readonly count: number } {
  const ctl = new Int32Array(data.ctl);
  const out = new Float64Array(data.out);
  let k = 0;
  return {
    took(sent) {
      out[k++] = clock() - sent;
      Atomics.store(ctl, ACK, k);
      Atomics.notify(ctl, ACK); // pairs with the wait on ACK in latencyProducer()
    },
    get count() {
      return k;
    },
  };
}

/** Worker role 'lat-producer': sends `samples` stamped records, one at a time. */
export async function latencyProducer(data: RoleData): Promise<void> {
  const ctl = new Int32Array(data.ctl);
  calibrateWorker(data.cal);
  let send: (i: number) => void;
  if (data.transport === 'ring') {
    const rb = await RingBuffer.attach(data.handle!);
    const f64 = new Float64Array(rb.memory.buffer);
    const record = new Float64Array(8);
    const bytes = new Uint8Array(record.buffer);
    const full = (): never => {
      throw new Error('the ring is full, but the consumer acknowledged every record');
    };
    // adaptive wakeups (flags 0): the consumer is at this record and asleep
    send = data.api === 'raw'
      ? (i) => {
        const off = rb.reserveRaw(16) || full();
        f64[(off >> 3) + 1] = i;
        f64[off >> 3] = clock();
        rb.submitRaw(off, 0);
      }
      : (i) => {
        record[1] = i;
        record[0] = clock();
        const r = rb.reserve(bytes.length) ?? full();
        r.data.set(bytes);
        r.submit();
      };
  } else if (data.transport === 'notify') {
    const f64 = new Float64Array(data.ctl);
    send = () => {
      f64[SENT] = clock();
      Atomics.add(ctl, SEQ, 1);
      Atomics.notify(ctl, SEQ); // pairs with the waits on SEQ in receive()
    };
  } else {
    const target = data.port ?? parentPort!;
    send = (i) => target.postMessage(Float64Array.of(clock(), i));
  }
  Atomics.wait(ctl, GO, 0, 30_000);
  for (let i = 0; i < data.samples; i++) {
    Atomics.wait(ctl, NAP, 0, data.gapMs); // let the consumer fall asleep
    send(i);
    waitFor(ctl, ACK, (v) => v > i, 5000, `record ${i} to be consumed`); // pairs with the ACK store and notify in receiver()
  }
  data.port?.close();
}

/** Takes `samples` records on this thread (`await poll(-1)`, or `pollSync(-1)` where it may block), or messages from `port`. */
async function receive(data: RoleData, port: MessagePort | Spawned['worker'] | null, block: boolean): Promise<void> {
  const r = receiver(data);
  if (data.transport === 'ring') {
    const rb = await RingBuffer.attach(data.handle!);
    const f64 = new Float64Array(rb.memory.buffer);
    const consumer = new RingBufferConsumer().addRaw(rb, (_bytes, offset) => r.took(f64[offset >> 3]!));
    const deadline = performance.now() + 60_000;
    while (r.count < data.samples) {
      if (block) consumer.pollSync(1000);
      else await consumer.poll(-1); // bounded by the caller's timeout
      if (performance.now() > deadline) throw new Error(`only ${r.count} of ${data.samples} records arrived in 60 s`);
    }
  } else if (data.transport === 'notify') {
    const ctl = new Int32Array(data.ctl);
    const f64 = new Float64Array(data.ctl);
    while (r.count < data.samples) {
      // SEQ is r.count until the next record is sent: sleep while it is (pairs with the add and notify in latencyProducer())
      if (block) Atomics.wait(ctl, SEQ, r.count, 5000);
      else {
        const w = Atomics.waitAsync(ctl, SEQ, r.count, 5000);
        if (w.async) await w.value;
      }
      if (Atomics.load(ctl, SEQ) === r.count) throw new Error(`record ${r.count} did not arrive in 5 s`);
      r.took(f64[SENT]!);
    }
  } else {
    await new Promise<void>((resolve) => {
      port!.on('message', (m: Float64Array) => {
        r.took(m[0]!);
        if (r.count === data.samples) resolve();
      });
    });
    if (block) (port as MessagePort).close();
  }
}

/** Worker role 'lat-consumer': receives `samples` records, writing raw latencies to `out`. */
export async function latencyConsumer(data: RoleData): Promise<void> {
  calibrateWorker(data.cal);
  await receive(data, data.port, true);
}

export interface RunOutcome {
  /** Corrected latencies in microseconds, warm-up dropped. */
  us: Float64Array;
  wakeups: number | null;
  calibrations: Calibration[];
}

/** One run of `samples` records, `gapMs` apart; `api` as the ring's producer writes. */
export async function once(transport: Transport, placement: Placement, samples: number, gapMs: number, api: LatencyApi = 'raw'): Promise<RunOutcome> {
  const ctl = new SharedArrayBuffer(64);
  const rb = transport === 'ring' ? await RingBuffer.create({ size: 65536 }) : null;
  const channel = transport === 'pm' && placement === 'worker' ? new MessageChannel() : null;
  const out = new SharedArrayBuffer(8 * samples);
  const base = { transport, api, handle: rb?.handle ?? null, ctl, samples, gapMs, out };
  const cal = [calibrationBuffer(), calibrationBuffer()];
  const workers: Spawned[] = [spawn('lat-producer', { ...base, cal: cal[0], port: channel?.port1 ?? null }, channel ? [channel.port1] : [])];
  if (placement === 'worker') workers.push(spawn('lat-consumer', { ...base, cal: cal[1], port: channel?.port2 ?? null }, channel ? [channel.port2] : []));
  const failed = firstFailure(workers);
  try {
    const calibrations = workers.map((_, i) => calibrateMain(cal[i]!));
    const go = new Int32Array(ctl);
    Atomics.store(go, GO, 1);
    Atomics.notify(go, GO); // pairs with the wait on GO in latencyProducer()
    const done = placement === 'worker' ? Promise.all(workers.map((w) => w.exited)) : receive({ ...base, cal: cal[1]!, port: null }, workers[0]!.worker, false);
    await withTimeout(Promise.race([done, failed]), 120_000, 'latency run');
    await withTimeout(Promise.race([Promise.all(workers.map((w) => w.exited)), failed]), 30_000, 'latency workers');
    const [p, c = { offsetMs: 0, rttUs: 0 }] = calibrations;
    const raw = new Float64Array(out);
    const skip = Math.max(20, Math.floor(samples / 10));
    const us = raw.subarray(skip).map((ms) => (ms - c.offsetMs + p!.offsetMs) * 1000);
    return { us, wakeups: rb !== null ? rb.stats().wakeups : null, calibrations };
  } finally {
    await Promise.all(workers.map((w) => w.worker.terminate()));
  }
}

const CASES: { name: string; transport: Transport; placement: Placement }[] = [
  { name: 'wasm-ringbuf → main thread, await poll(-1)', transport: 'ring', placement: 'main' },
  { name: 'postMessage → main thread', transport: 'pm', placement: 'main' },
  { name: 'wasm-ringbuf → worker, pollSync(-1)', transport: 'ring', placement: 'worker' },
  { name: 'postMessage → worker (MessagePort)', transport: 'pm', placement: 'worker' },
  { name: 'floor: Atomics.notify → main thread, Atomics.waitAsync', transport: 'notify', placement: 'main' },
  { name: 'floor: Atomics.notify → worker, Atomics.wait', transport: 'notify', placement: 'worker' },
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
      for (const cal of r.calibrations) {
        maxOffsetUs = Math.max(maxOffsetUs, Math.abs(cal.offsetMs * 1000));
        maxRttUs = Math.max(maxRttUs, cal.rttUs);
      }
    }
  }
  const rows: LatencyRow[] = CASES.map((c, i) => {
    const s = per[i]!;
    // ratios run by run (the same minute of a noisy machine), then their median
    const pm = per[CASES.findIndex((d) => d.transport === 'pm' && d.placement === c.placement)]!;
    return {
      name: c.name,
      transport: TRANSPORT_NAMES[c.transport],
      consumer: c.placement === 'main' ? 'main thread' : 'worker',
      samples: s.kept,
      p50Us: median(s.p50),
      p90Us: median(s.p90),
      p99Us: median(s.p99),
      wakeupsPerRecord: s.wakeups.length > 0 ? median(s.wakeups) : null,
      p50VsPostMessage: pairedRatio(s.p50, pm.p50),
    };
  });
  return { gapMs, runs, samplesPerRun: samples, clock: { maxOffsetUs, maxRttUs }, rows };
}
