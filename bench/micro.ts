// Single-thread cost of the calls a user makes per record, with tinybench:
// reserve → data.set → submit, output(), and the consumer's view and raw
// callbacks.
// Each task times a batch of BATCH operations and reports the time per
// operation (overriddenDuration); the untimed part of an iteration (emptying
// or filling the ring) is counted in overriddenIterationCost. One thread, no
// contention: the cross-thread figures are the matrix's.

import { Bench } from 'tinybench';
import { RingBuffer, RingBufferConsumer } from 'wasm-ringbuf';
import { RecordTemplate } from './harness.js';

/** One micro-benchmark's figures. */
export interface MicroResult {
  name: string;
  /** Median nanoseconds per operation. */
  nsPerOp: number;
  /** Relative margin of error of the mean, in percent. */
  rme: number;
  samples: number;
}

/** Operations per timed batch. */
export const BATCH = 1024;
const RECORD = 64;

/**
 * Times `body` with tinybench, `BATCH` operations per call, reported per
 * operation; `after` runs untimed after each call. Throws when the task fails.
 */
export async function timeBatches(
  name: string,
  body: () => void,
  after: () => void,
  quick: boolean,
): Promise<MicroResult> {
  const bench = new Bench(
    quick ? { time: 50, warmupTime: 10, iterations: 8, warmupIterations: 2 } : { time: 500, warmupTime: 100 },
  );
  bench.add(name, () => {
    const t0 = performance.now();
    body();
    const ms = performance.now() - t0;
    after();
    return { overriddenDuration: ms / BATCH, overriddenIterationCost: performance.now() - t0 };
  });
  const [task] = await bench.run();
  const r = task?.result;
  if (r === undefined || r.state !== 'completed')
    throw new Error(`micro-benchmark "${name}": ${r?.state === 'errored' ? r.error.message : 'no result'}`);
  return { name, nsPerOp: r.latency.p50 * 1e6, rme: r.latency.rme, samples: r.latency.samplesCount };
}

/** Runs the micro-benchmarks whose name `include` accepts, calling `progress` before each. */
export async function runMicro(
  quick: boolean,
  include: (name: string) => boolean,
  progress: (name: string) => void,
): Promise<MicroResult[]> {
  const record = new RecordTemplate(RECORD, 0);
  const rb = await RingBuffer.create({ size: 1 << 20 });
  let sink = 0;
  const consumer = new RingBufferConsumer(rb, (data) => void (sink = (sink + data[0]! + data.length) & 0xffff));
  const drain = (): void => void consumer.consume();
  const raw = new RingBufferConsumer();
  const drainRaw = (): void => void raw.consume();
  const reserve = (): void => {
    for (let i = 0; i < BATCH; i++) {
      const r = rb.reserve(RECORD)!;
      r.data.set(record.stamp(i));
      r.submit();
    }
  };
  const output = (): void => {
    for (let i = 0; i < BATCH; i++)
      if (!rb.output(record.stamp(i))) throw new Error('the ring is full: the batch is larger than the ring');
  };
  const tasks: [string, () => void, () => void][] = [
    ['reserve → data.set → submit, 64 B', reserve, drain],
    ['output, 64 B', output, drain],
    // the records written untimed first: the consume is what is timed
    ['consume, per 64 B record (view callback)', drain, reserve],
    ['consume, per 64 B record (addRaw callback)', drainRaw, reserve],
  ];
  const results: MicroResult[] = [];
  for (const [name, body, after] of tasks.filter(([name]) => include(name))) {
    progress(name);
    // the raw consumer reads the ring for its task alone
    if (body === drainRaw) {
      consumer.close();
      raw.addRaw(rb, (bytes, offset, length) => void (sink = (sink + bytes[offset]! + length) & 0xffff));
    }
    if (body === drain || body === drainRaw) reserve();
    results.push(await timeBatches(name, body, after, quick));
    body === drainRaw ? drainRaw() : drain();
  }
  consumer.close();
  raw.close();
  if (sink === -1) console.log(sink); // keeps the callback's result alive
  return results;
}
