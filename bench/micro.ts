// Single-thread cost of each operation, with tinybench. Each task times a
// batch of operations and reports the time per operation
// (overriddenDuration); the untimed part of an iteration (emptying or filling
// the ring) is counted in overriddenIterationCost.

import { Bench } from 'tinybench';
import { BPF_RB_AVAIL_DATA, RingBuffer, RingBufferConsumer } from 'wasm-ringbuf';
import { RecordTemplate, rawWriter, type RawRing } from './harness.js';
import { JsRing, JsRingConsumer } from './js-twin.js';

/** One micro-benchmark's figures. */
export interface MicroResult {
  name: string;
  /** Median nanoseconds per operation. */
  nsPerOp: number;
  opsPerSec: number;
  /** Bytes each operation moves, where that is the point (copies). */
  bytesPerOp: number | null;
  /** Relative margin of error of the mean, in percent. */
  rme: number;
  samples: number;
}

/** The single-thread produce path, against which the cross-thread rate is compared. */
export const PRODUCE_TASK = 'reserveRaw + copy + submitRaw, 64 B (lock)';
/** The plain-JavaScript twin's produce path and consumer (bench/js-twin.ts), beside the wasm core's. */
export const TWIN_PRODUCE_TASK = 'reserveRaw + copy + submitRaw, 64 B (js-twin)';
export const TWIN_CONSUME_TASK = 'consume, per 64 B record (js-twin)';
/** The wasm consumer, per record. */
export const CONSUME_TASK = 'consume, per 64 B record';
/** The memcpy baseline of the 4 KiB records. */
export const COPY_TASK = 'copy 4096 B into shared memory (Uint8Array.set)';

/** Operations per timed batch. */
export const BATCH = 1024;
const RECORD = 64;

interface MicroTask {
  name: string;
  bytesPerOp: number | null;
  /** Runs one batch; returns the milliseconds of its timed part. */
  batch(): number;
}

async function tasks(): Promise<MicroTask[]> {
  const rb = await RingBuffer.create({ size: 1 << 20 });
  const cas = await RingBuffer.create({ size: 1 << 20, claim: 'cas' });
  const record = new RecordTemplate(RECORD, 0);
  const big = new RecordTemplate(4096, 0);
  const words = new Uint32Array(rb.memory.buffer);
  let sink = 0;
  const none = (): void => {};
  const consumer = new RingBufferConsumer().addRaw(rb, (_bytes, offset) => {
    sink += words[offset >> 2]! + words[(offset >> 2) + 1]!;
  });
  const casConsumer = new RingBufferConsumer().addRaw(cas, none);
  const twin = JsRing.create(1 << 20);
  const twinWords = new Uint32Array(twin.sab);
  const twinConsumer = new JsRingConsumer(twin, (_bytes, offset) => {
    sink += twinWords[offset >> 2]! + twinWords[(offset >> 2) + 1]!;
  });
  const produceRaw = (ring: RawRing): void => {
    const write = rawWriter(ring);
    for (let i = 0; i < BATCH; i++) if (!write(record.stamp(i), 0)) throw new Error('the ring is full: the batch is larger than the ring');
  };
  const timed = (body: () => void, after: () => void): number => {
    const t0 = performance.now();
    body();
    const dt = performance.now() - t0;
    after();
    return dt;
  };
  const drain = (): void => {
    consumer.consume();
  };
  const target = new Uint8Array(new SharedArrayBuffer(1 << 20));
  return [
    { name: PRODUCE_TASK, bytesPerOp: null, batch: () => timed(() => produceRaw(rb), drain) },
    { name: TWIN_PRODUCE_TASK, bytesPerOp: null, batch: () => timed(() => produceRaw(twin), () => twinConsumer.consume()) },
    { name: 'reserveRaw + copy + submitRaw, 64 B (cas)', bytesPerOp: null, batch: () => timed(() => produceRaw(cas), () => casConsumer.consume()) },
    {
      name: 'reserve + data.set + submit, 64 B', bytesPerOp: null,
      batch: () => timed(() => {
        for (let i = 0; i < BATCH; i++) {
          const r = rb.reserve(RECORD)!;
          r.data.set(record.stamp(i));
          r.submit();
        }
      }, drain),
    },
    {
      name: 'output, 64 B', bytesPerOp: null,
      batch: () => timed(() => {
        for (let i = 0; i < BATCH; i++) if (!rb.output(record.stamp(i))) throw new Error('output() found the ring full');
      }, drain),
    },
    {
      name: CONSUME_TASK, bytesPerOp: null,
      batch: () => {
        produceRaw(rb);
        return timed(drain, none);
      },
    },
    {
      name: TWIN_CONSUME_TASK, bytesPerOp: null,
      batch: () => {
        produceRaw(twin);
        return timed(() => twinConsumer.consume(), none);
      },
    },
    {
      name: 'query(BPF_RB_AVAIL_DATA)', bytesPerOp: null,
      batch: () => timed(() => {
        for (let i = 0; i < BATCH; i++) sink += rb.query(BPF_RB_AVAIL_DATA);
      }, none),
    },
    {
      name: 'copy 64 B into shared memory (Uint8Array.set)', bytesPerOp: RECORD,
      batch: () => timed(() => {
        for (let i = 0; i < BATCH; i++) target.set(record.stamp(i), (i * 72) & 0xfffc0);
      }, none),
    },
    {
      name: COPY_TASK, bytesPerOp: 4096,
      batch: () => timed(() => {
        for (let i = 0; i < BATCH; i++) target.set(big.stamp(i), (i * 4096) & 0xff000);
      }, none),
    },
  ];
}

/**
 * Times `batch` with tinybench: each call does BATCH operations and returns
 * the milliseconds they took, reported per operation. Throws when the task
 * fails.
 */
export async function timeBatches(name: string, batch: () => number, quick: boolean) {
  const bench = new Bench(quick ? { time: 50, warmupTime: 10, iterations: 8, warmupIterations: 2 } : { time: 500, warmupTime: 100 });
  bench.add(name, () => {
    const t0 = performance.now();
    const ms = batch();
    return { overriddenDuration: ms / BATCH, overriddenIterationCost: performance.now() - t0 };
  });
  const [task] = await bench.run();
  const result = task?.result;
  if (result === undefined || result.state === 'errored') {
    throw new Error(`micro-benchmark "${name}" failed: ${result?.state === 'errored' ? result.error.message : 'no result'}`);
  }
  if (result.state !== 'completed') throw new Error(`micro-benchmark "${name}" ended ${result.state}`);
  return result;
}

/**
 * Runs every micro-benchmark whose name `include` accepts, calling
 * `onTask` before each. Throws when a task fails.
 */
export async function runMicro(quick: boolean, include: (name: string) => boolean, onTask: (name: string) => void): Promise<MicroResult[]> {
  const chosen = (await tasks()).filter((t) => include(t.name));
  const results: MicroResult[] = [];
  for (const t of chosen) {
    onTask(t.name);
    const result = await timeBatches(t.name, t.batch, quick);
    const ns = result.latency.p50 * 1e6;
    results.push({ name: t.name, nsPerOp: ns, opsPerSec: 1e9 / ns, bytesPerOp: t.bytesPerOp, rme: result.latency.rme, samples: result.latency.samplesCount });
  }
  return results;
}
