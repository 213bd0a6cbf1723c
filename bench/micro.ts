// Single-thread cost of each operation, with tinybench: the produce and
// consume paths of the ring, the plain-JavaScript twin and the per-producer
// buffers, what a stamp costs (docs/perfbuf.md), and memcpy for scale. Each
// task times a batch of BATCH operations and reports the time per operation
// (overriddenDuration); the untimed part of an iteration (emptying or
// filling the ring) is counted in overriddenIterationCost. One thread, no
// contention: the cross-thread figures are the matrix's.
//
// The ratios of two tasks that the report gives (PAIRS) are timed apart
// from the table, the two tasks' batches in alternation (ABBA), and each
// ratio is the median of the batch-by-batch ratios. A core of a shared
// machine runs up to 1.7× slower for a few hundred milliseconds to seconds
// at a time when other work lands on it (a fixed loop of integer work, timed
// in 16 slices of about 0.1 s, ran from 1.3 to 2.3 ms a slice in one process
// on the machine of the committed runs), so two tinybench runs of half a
// second, seconds apart, can differ by that much for no reason of their own:
// the table's ns/op are each timed alone, and their ratios are not the pairs'.
//
//   node build/bench/run.js --filter=micro/   runs these alone

import { Bench } from 'tinybench';
import {
  BPF_RB_AVAIL_DATA, BPF_RB_NO_WAKEUP, FairConsumer, PerfBuffer, PerfBufferConsumer, RingBuffer, RingBufferConsumer,
} from 'wasm-ringbuf';
import { RecordTemplate, rawWriter, type Producer, type RawRing } from './harness.js';
import { JsRing, JsRingConsumer } from './js-twin.js';
import { median } from './util.js';

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

/** Two tasks timed in alternation: the median of `a`'s batch time over `b`'s, batch by batch. */
export interface MicroPair {
  a: string;
  b: string;
  ratio: number;
  /** Pairs of batches timed. */
  batches: number;
}

/** What runMicro() measured. */
export interface MicroRun {
  tasks: MicroResult[];
  pairs: MicroPair[];
}

/** The single-thread produce path (the cross-thread rates are divided by the one-thread cells of solo.ts instead: timed in the same pass). */
export const PRODUCE_TASK = 'reserveRaw + copy + submitRaw, 64 B (lock)';
/** The wasm consumer, per record. */
export const CONSUME_TASK = 'consume, per 64 B record';
/** The consumer with a view callback (the README's), per record. */
export const VIEW_CONSUME_TASK = 'consume, per 64 B record (view callback)';
/** The plain-JavaScript twin's produce path and consumer (bench/js-twin.ts), beside the wasm core's. */
export const TWIN_PRODUCE_TASK = 'reserveRaw + copy + submitRaw, 64 B (js-twin)';
export const TWIN_CONSUME_TASK = 'consume, per 64 B record (js-twin)';
/** reserve, copy and commit as the two wasm calls alone, without the API's checks; and one wasm call that does almost nothing. */
export const WASM_CALLS_TASK = 'wasm reserve + copy + wasm commit, 64 B (no argument checks)';
export const CALL_TASK = 'one wasm call (producerPos)';
/** output() on a shared ring (two wasm calls: reserve, then commit). */
export const OUTPUT_TASK = 'output, 64 B';
export const RESERVE_TASK = 'reserve + data.set + submit, 64 B';
export const BLOCKING_TASK = 'reserveBlocking + data.set + submit, 64 B (room at the first try)';
/** output() on a single-producer ring (one wasm call: the payload first, then outputAt), beside that ring's two bare calls. */
export const SINGLE_OUTPUT_TASK = 'output, 64 B (singleProducer)';
export const SINGLE_CALLS_TASK = 'wasm reserve + copy + wasm commit, 64 B (singleProducer, no argument checks)';
/** The memcpy baseline of the 4 KiB records. */
export const COPY_TASK = 'copy 4096 B into shared memory (Uint8Array.set)';

/** The pairs of tasks the report takes a ratio of, numerator first. */
const PAIRS: readonly (readonly [string, string])[] = [
  [TWIN_PRODUCE_TASK, PRODUCE_TASK], [TWIN_CONSUME_TASK, CONSUME_TASK], [BLOCKING_TASK, RESERVE_TASK],
  [SINGLE_OUTPUT_TASK, OUTPUT_TASK], [SINGLE_OUTPUT_TASK, SINGLE_CALLS_TASK],
];
/** Milliseconds each pair alternates for, after its warm-up batches. */
const PAIR_MS = { quick: 30, full: 400 };
const PAIR_WARMUP_BATCHES = 50;

/** Operations per timed batch. */
const BATCH = 1024;
const RECORD = 64;
const SIZE = 1 << 20;

interface MicroTask {
  name: string;
  bytesPerOp?: number;
  /** Runs one batch of BATCH operations; returns the milliseconds of its timed part. */
  batch(): number;
}

const none = (): void => {};

/** Runs `body`, then `after` untimed; returns the milliseconds `body` took. */
function timed(body: () => void, after = none): number {
  const t0 = performance.now();
  body();
  const ms = performance.now() - t0;
  after();
  return ms;
}

/** BATCH calls of `op(i)`. */
function times(op: (i: number) => void): () => void {
  return () => {
    for (let i = 0; i < BATCH; i++) op(i);
  };
}

let sink = 0;

async function tasks(): Promise<MicroTask[]> {
  const record = new RecordTemplate(RECORD, 0);
  const big = new RecordTemplate(4096, 0);
  const target = new Uint8Array(new SharedArrayBuffer(SIZE));
  /** BATCH records written with `write` and `flags`. */
  const fill = (write: Producer['write'], flags = 0): (() => void) => times((i) => {
    if (!write(record.stamp(i), flags)) throw new Error('the ring is full: the batch is larger than the ring');
  });
  /** A ring's produce path with its consumer; `flags` as the producer commits. */
  const ring = (r: RawRing, consume: () => number, flags = 0) => ({ produce: fill(rawWriter(r), flags), drain: (): void => void consume() });
  const count = (words: Uint32Array) => (_bytes: Uint8Array, offset: number): void => {
    sink = (sink + words[offset >> 2]! + words[(offset >> 2) + 1]!) & 0xffff;
  };

  const rb = await RingBuffer.create({ size: SIZE });
  const rbc = new RingBufferConsumer().addRaw(rb, count(new Uint32Array(rb.memory.buffer)));
  const lock = ring(rb, () => rbc.consume());
  // the view callback of the README's consumer, on a ring of its own
  const rbv = await RingBuffer.create({ size: SIZE });
  const rbvc = new RingBufferConsumer(rbv, (data) => void (sink = (sink + data[0]! + data.length) & 0xffff));
  const viewPath = ring(rbv, () => rbvc.consume());
  const cas = await RingBuffer.create({ size: SIZE, claim: 'cas' });
  const casc = new RingBufferConsumer().addRaw(cas, none);
  const casPath = ring(cas, () => casc.consume());
  const output = fill((r) => rb.output(r));
  const twin = JsRing.create(SIZE);
  const twinc = new JsRingConsumer(twin, count(new Uint32Array(twin.sab)));
  const js = ring(twin, () => twinc.consume());
  // the two wasm calls of a record with nothing around them: what one call per record could save is bounded by CALL_TASK
  const bareCalls = ({ wasm, ctl, producerId, bytes }: RingBuffer): (() => void) => times((i) => {
    const offset = wasm.reserve(ctl, RECORD, producerId, 0);
    bytes.set(record.stamp(i), offset);
    wasm.commit(ctl, offset, 0, 0);
  });
  const bare = bareCalls(rb);
  const reserve = times((i) => {
    const r = rb.reserve(RECORD)!;
    r.data.set(record.stamp(i));
    r.submit();
  });
  const reserveBlocking = times((i) => {
    const r = rb.reserveBlocking(RECORD, 1000)!;
    r.data.set(record.stamp(i));
    r.submit();
  });

  // stamps (docs/perfbuf.md): what ordering records across producers costs one producer
  const control = new Int32Array(new SharedArrayBuffer(256));
  const big64 = new BigInt64Array(new SharedArrayBuffer(64));
  // producer paths committed with BPF_RB_NO_WAKEUP, each drained inside the timed batch
  const single = await RingBuffer.create({ size: SIZE, singleProducer: true });
  const singlec = new RingBufferConsumer().addRaw(single, none);
  const singleOutput = fill((r) => single.output(r));
  const singleBare = bareCalls(single);
  const singleDrain = (): void => void singlec.consume();
  const perf: MicroTask[] = [];
  for (const ordered of [false, true]) {
    const pb = await PerfBuffer.create({ producers: 1, size: SIZE, ordered });
    const p = await PerfBuffer.attach(pb.handle, 0);
    const c = new PerfBufferConsumer(pb, { ordered, sampleRaw: none });
    const path = ring(p, () => c.consume(), BPF_RB_NO_WAKEUP);
    perf.push({ name: `produce + drain: PerfBuffer ${ordered ? 'ordered' : 'unordered'}`, batch: () => timed(() => (path.produce(), path.drain())) });
  }
  const produceDrain = (name: string, r: RawRing, c: RingBufferConsumer): MicroTask => {
    const path = ring(r, () => c.consume(), BPF_RB_NO_WAKEUP);
    return { name, batch: () => timed(() => (path.produce(), path.drain())) };
  };
  // consumers over 4 per-producer rings, filled round-robin outside the timed part
  const consumers: MicroTask[] = [];
  for (const kind of ['RingBufferConsumer', 'FairConsumer', 'PerfBufferConsumer unordered', 'PerfBufferConsumer ordered merge'] as const) {
    const ordered = kind === 'PerfBufferConsumer ordered merge';
    const pb = await PerfBuffer.create({ producers: 4, size: SIZE, ordered });
    const ps = await Promise.all([0, 1, 2, 3].map((k) => PerfBuffer.attach(pb.handle, k)));
    let c: { consume(): number };
    if (kind === 'RingBufferConsumer' || kind === 'FairConsumer') {
      const multi = kind === 'FairConsumer' ? new FairConsumer() : new RingBufferConsumer();
      for (const r of pb.rings) multi.addRaw(r, none);
      c = multi;
    } else {
      c = new PerfBufferConsumer(pb, { ordered, sampleRaw: none });
    }
    const put = times((i) => void ps[i & 3]!.output(record.bytes, BPF_RB_NO_WAKEUP));
    consumers.push({ name: `consume, 4 rings: ${kind}`, batch: () => (put(), timed(() => void c.consume())) });
  }

  return [
    { name: PRODUCE_TASK, batch: () => timed(lock.produce, lock.drain) },
    { name: TWIN_PRODUCE_TASK, batch: () => timed(js.produce, js.drain) },
    { name: 'reserveRaw + copy + submitRaw, 64 B (cas)', batch: () => timed(casPath.produce, casPath.drain) },
    { name: RESERVE_TASK, batch: () => timed(reserve, lock.drain) },
    { name: BLOCKING_TASK, batch: () => timed(reserveBlocking, lock.drain) },
    { name: OUTPUT_TASK, batch: () => timed(output, lock.drain) },
    { name: WASM_CALLS_TASK, batch: () => timed(bare, lock.drain) },
    { name: SINGLE_OUTPUT_TASK, batch: () => timed(singleOutput, singleDrain) },
    { name: SINGLE_CALLS_TASK, batch: () => timed(singleBare, singleDrain) },
    { name: CALL_TASK, batch: () => timed(times(() => void (sink ^= rb.wasm.producerPos(rb.ctl) & 1))) },
    { name: CONSUME_TASK, batch: () => (lock.produce(), timed(lock.drain)) },
    { name: TWIN_CONSUME_TASK, batch: () => (js.produce(), timed(js.drain)) },
    { name: VIEW_CONSUME_TASK, batch: () => (viewPath.produce(), timed(viewPath.drain)) },
    { name: 'query(BPF_RB_AVAIL_DATA)', batch: () => timed(times(() => void (sink ^= rb.query(BPF_RB_AVAIL_DATA)))) },
    { name: 'copy 64 B into shared memory (Uint8Array.set)', bytesPerOp: RECORD, batch: () => timed(times((i) => target.set(record.stamp(i), (i * 72) & 0xfffc0))) },
    { name: COPY_TASK, bytesPerOp: 4096, batch: () => timed(times((i) => target.set(big.stamp(i), (i * 4096) & 0xff000))) },
    {
      name: 'stamp: shared counter (LOW = COUNTER; fetch_add; LOW = IDLE)',
      batch: () => timed(times(() => {
        Atomics.store(control, 32, Atomics.load(control, 16));
        sink ^= Atomics.add(control, 16, 2);
        Atomics.store(control, 32, 1);
      })),
    },
    { name: 'stamp: fetch_add alone', batch: () => timed(times(() => void (sink ^= Atomics.add(control, 16, 2)))) },
    { name: 'stamp: 64-bit fetch_add (BigInt64Array, allocates)', batch: () => timed(times(() => void (sink ^= Number(Atomics.add(big64, 0, 1n)) & 1))) },
    { name: 'stamp: clock (performance.timeOrigin + performance.now())', batch: () => timed(times(() => void (sink ^= (performance.timeOrigin + performance.now()) & 1))) },
    {
      name: 'stamp: clock + LOW stores (the watermark a clock needs too)',
      batch: () => timed(times(() => {
        const t = performance.now();
        Atomics.store(control, 32, t | 0);
        sink ^= t & 1;
        Atomics.store(control, 32, 1);
      })),
    },
    produceDrain('produce + drain: RingBuffer raw, lock', rb, rbc),
    produceDrain('produce + drain: RingBuffer raw, singleProducer', single, singlec),
    ...perf,
    ...consumers,
  ];
}

/**
 * Times `batch` with tinybench: each call does BATCH operations and returns
 * the milliseconds they took, reported per operation. Throws when the task
 * fails.
 */
async function timeBatches(name: string, batch: () => number, quick: boolean) {
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

/** Times `a` and `b` batch by batch in alternation (a b, then b a) for `ms` after a warm-up; see MicroPair. */
function alternate(a: MicroTask, b: MicroTask, ms: number): MicroPair {
  for (let i = 0; i < PAIR_WARMUP_BATCHES; i++) a.batch(), b.batch();
  const ratios: number[] = [];
  for (const end = performance.now() + ms; performance.now() < end;) {
    if ((ratios.length & 1) === 0) {
      const ta = a.batch();
      ratios.push(ta / b.batch());
    } else {
      const tb = b.batch();
      ratios.push(a.batch() / tb);
    }
  }
  return { a: a.name, b: b.name, ratio: median(ratios), batches: ratios.length };
}

/**
 * Runs every micro-benchmark whose name `include` accepts, calling
 * `onTask` before each, then the pairs of them in alternation. Throws when
 * a task fails; a pair that fails is left out, its error added to `errors`.
 */
export async function runMicro(quick: boolean, include: (name: string) => boolean, onTask: (name: string) => void, errors: string[]): Promise<MicroRun> {
  const chosen = (await tasks()).filter((t) => include(t.name));
  const results: MicroResult[] = [];
  for (const t of chosen) {
    onTask(t.name);
    const result = await timeBatches(t.name, t.batch, quick);
    const ns = result.latency.p50 * 1e6;
    results.push({ name: t.name, nsPerOp: ns, opsPerSec: 1e9 / ns, bytesPerOp: t.bytesPerOp ?? null, rme: result.latency.rme, samples: result.latency.samplesCount });
  }
  const pairs: MicroPair[] = [];
  for (const [a, b] of PAIRS) {
    const x = chosen.find((t) => t.name === a);
    const y = chosen.find((t) => t.name === b);
    if (x === undefined || y === undefined) continue;
    onTask(`${a} ÷ ${b}, in alternation`);
    try {
      pairs.push(alternate(x, y, quick ? PAIR_MS.quick : PAIR_MS.full));
    } catch (error) {
      errors.push(`micro pair ${a} ÷ ${b}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (sink === 0.5) console.log(sink); // keeps the stamp loops' results alive
  return { tasks: results, pairs };
}
