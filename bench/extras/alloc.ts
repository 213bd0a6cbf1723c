// Allocation per record, measured: a child process started with --expose-gc
// and a young generation (semi-space) of 64 MiB, so that no scavenge runs
// while a round is measured. Its main thread is the consumer; a worker
// (same process, same V8 flags) is the producer. They take turns on one ring:
//
//   producer: gc(); heap used h0; write K records; heap used h1    → (h1 − h0) / K
//   consumer: gc(); heap used h0; consume the K records; h1        → (h1 − h0) / K
//
// "Heap used" is v8.getHeapStatistics().used_heap_size of the thread's own
// isolate; with no GC between the two readings, its growth is exactly the
// bytes the window allocated on the JS heap. Every window runs under a
// v8.GCProfiler, and a window in which any GC ran is thrown away and counted.
// Two controls run the same way: an empty loop (the window's own overhead:
// the getHeapStatistics() result object and the like, spread over K) and a
// loop that allocates one small object per iteration (shows the method sees
// allocation when there is some).

import { fork } from 'node:child_process';
import v8 from 'node:v8';
import { fileURLToPath } from 'node:url';
import { RingBuffer, RingBufferConsumer, type RingBufferHandle } from 'wasm-ringbuf';
import { emitter, type Api } from '../contenders/wasm-ring.js';
import { median, waitFor, type StepOptions } from '../util.js';
import { spawn } from '../harness.js';

/** One row: bytes allocated on the JS heap per record by one side of one path. */
export interface AllocRow {
  side: 'producer' | 'consumer';
  /** What that side runs per record. */
  path: string;
  /** Median over the clean rounds of (heap growth in the round) / records. */
  bytesPerRecord: number;
  /** Rounds measured without a GC in the window, of those run (warm-up rounds excluded). */
  cleanRounds: number;
  rounds: number;
}

export interface AllocResult {
  recordsPerRound: number;
  recordSize: number;
  /** The child's V8 flags. */
  flags: string[];
  rows: AllocRow[];
}

type ProducerMode = 'raw' | 'rawBlocking' | 'reserve' | 'output' | 'empty' | 'control';
type ConsumerMode = 'raw' | 'view' | 'empty' | 'control';

interface Case {
  producer: ProducerMode;
  consumer: ConsumerMode;
}

const CASES: Case[] = [
  { producer: 'raw', consumer: 'raw' },
  { producer: 'reserve', consumer: 'view' },
  { producer: 'output', consumer: 'raw' },
  { producer: 'rawBlocking', consumer: 'raw' },
  { producer: 'empty', consumer: 'empty' },
  { producer: 'control', consumer: 'control' },
];

const PRODUCER_PATHS: Record<ProducerMode, string> = {
  raw: 'reserveRaw + bytes.set + submitRaw (zero-allocation path)',
  reserve: 'reserve() + data.set + submit() (object API)',
  output: 'output(bytes)',
  rawBlocking: 'reserveRawBlocking + bytes.set + submitRaw (room at the first try)',
  empty: 'control: empty loop (measurement overhead)',
  control: 'control: one { i } object per iteration',
};
const CONSUMER_PATHS: Record<ConsumerMode, string> = {
  raw: 'consume(), addRaw callback (zero-allocation path)',
  view: 'consume(), add() view callback',
  empty: 'control: empty loop (measurement overhead)',
  control: 'control: one { i } object per iteration',
};

const FLAGS = ['--expose-gc', '--min-semi-space-size=64', '--max-semi-space-size=64'];
const RECORD = 64;
const TURN = 0; // 0: the producer's turn, 1: the consumer's

interface ChildConfig {
  records: number;
  warm: number;
  rounds: number;
}

interface ProducerData extends ChildConfig {
  handle: RingBufferHandle;
  ctl: SharedArrayBuffer;
  /** Per case and round: bytes, then a GC count. */
  out: SharedArrayBuffer;
}

/** Keeps the control loops' results alive; read by allocChild(). */
let sink: unknown = null;

/** The two controls, run the same way on both sides: an empty loop of `k` and one small object per iteration. */
function controls(k: number): Record<'empty' | 'control', () => void> {
  return {
    empty: () => {
      let s = 0;
      for (let i = 0; i < k; i++) s += i;
      sink = s;
    },
    control: () => {
      for (let i = 0; i < k; i++) sink = { i };
    },
  };
}

function collect(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('the allocation measurement needs --expose-gc');
  gc();
  gc();
}

/** Runs `body` in a measured window: returns the heap growth and the number of GCs during it. */
function window(body: () => void): { bytes: number; gcs: number } {
  collect();
  const profiler = new v8.GCProfiler();
  profiler.start();
  const h0 = v8.getHeapStatistics().used_heap_size;
  body();
  const h1 = v8.getHeapStatistics().used_heap_size;
  const gcs = profiler.stop().statistics.length;
  return { bytes: h1 - h0, gcs };
}

function turn(ctl: Int32Array, mine: number): void {
  waitFor(ctl, TURN, (v) => v === mine, 60_000, 'the other side of the allocation measurement');
}

function pass(ctl: Int32Array, to: number): void {
  Atomics.store(ctl, TURN, to);
  Atomics.notify(ctl, TURN);
}

/** Worker role 'alloc-producer'. */
export async function allocProducer(data: ProducerData): Promise<void> {
  const rb = await RingBuffer.attach(data.handle);
  const ctl = new Int32Array(data.ctl);
  const out = new Float64Array(data.out);
  const record = new Uint8Array(RECORD).fill(7);
  const K = data.records;
  const path = (api: Api) => {
    const write = emitter(rb, api);
    return () => {
      for (let i = 0; i < K; i++) if (!write(record, 0)) throw new Error('ring full');
    };
  };
  const bodies: Record<ProducerMode, () => void> = {
    raw: path('raw'),
    reserve: path('reserve'),
    output: path('output'),
    rawBlocking: () => {
      for (let i = 0; i < K; i++) {
        const offset = rb.reserveRawBlocking(RECORD, 1000);
        if (offset === 0) throw new Error('ring full');
        rb.bytes.set(record, offset);
        rb.submitRaw(offset, 0);
      }
    },
    ...controls(K),
  };
  let slot = 0;
  for (const c of CASES) {
    for (let round = 0; round < data.warm + data.rounds; round++) {
      turn(ctl, 0);
      const w = window(bodies[c.producer]);
      if (round >= data.warm) {
        out[2 * slot] = w.bytes;
        out[2 * slot + 1] = w.gcs;
        slot++;
      }
      pass(ctl, 1);
    }
  }
}

/** The child process's main: the consumer side, and the producer worker. Returns the rows. */
export async function allocChild(config: ChildConfig): Promise<AllocRow[]> {
  const rb = await RingBuffer.create({ size: 1 << 21 });
  const K = config.records;
  if (K * ((RECORD + 15) & ~7) >= rb.size) throw new Error('records per round must fit in the ring');
  const ctl = new Int32Array(new SharedArrayBuffer(64));
  const slots = CASES.length * config.rounds;
  const outSab = new SharedArrayBuffer(16 * slots);
  const producer = spawn('alloc-producer', { ...config, handle: rb.handle, ctl: ctl.buffer, out: outSab });
  let failed: unknown = null;
  producer.exited.catch((e: unknown) => (failed = e));
  let got = 0;
  let sum = 0;
  const words = new Uint32Array(rb.memory.buffer);
  const rawCallback = (_b: Uint8Array, offset: number): void => {
    sum = (sum + words[offset >> 2]!) & 0xffff; // stays a small integer: a growing double would box on every store
  };
  const viewCallback = (data: Uint8Array): void => {
    sum = (sum + data[0]!) & 0xffff;
  };
  // a fresh consumer per case (outside the windows): each starts at the ring's current position
  let consumer = new RingBufferConsumer();
  const consume = (): void => void (got = consumer.consume());
  const bodies: Record<ConsumerMode, () => void> = { raw: consume, view: consume, ...controls(K) };
  const consumerOut: { bytes: number; gcs: number }[] = [];
  const wait = (mine: number): void => {
    if (failed !== null) throw failed;
    turn(ctl, mine);
  };
  for (const c of CASES) {
    consumer.close(); // a ring has one consumer at a time
    consumer = c.consumer === 'view' ? new RingBufferConsumer(rb, viewCallback) : new RingBufferConsumer().addRaw(rb, rawCallback);
    for (let round = 0; round < config.warm + config.rounds; round++) {
      wait(1);
      got = -1;
      const w = window(bodies[c.consumer]);
      const expected = c.producer === 'empty' || c.producer === 'control' ? 0 : K;
      if (got !== -1 && got !== expected) throw new Error(`the consumer took ${got} records where ${expected} were written`);
      if (round >= config.warm) consumerOut.push(w);
      pass(ctl, 0);
    }
  }
  await producer.exited;
  if (sink === Symbol.for('never')) console.log(sum);
  const produced = new Float64Array(outSab);
  const rows: AllocRow[] = [];
  for (const [ci, c] of CASES.entries()) {
    const take = (side: 'producer' | 'consumer', get: (r: number) => { bytes: number; gcs: number }): AllocRow => {
      const clean: number[] = [];
      for (let r = 0; r < config.rounds; r++) {
        const w = get(r);
        if (w.gcs === 0) clean.push(w.bytes / K);
      }
      return {
        side, path: side === 'producer' ? PRODUCER_PATHS[c.producer] : CONSUMER_PATHS[c.consumer],
        bytesPerRecord: median(clean), cleanRounds: clean.length, rounds: config.rounds,
      };
    };
    const base = ci * config.rounds;
    rows.push(take('producer', (r) => ({ bytes: produced[2 * (base + r)]!, gcs: produced[2 * (base + r) + 1]! })));
    rows.push(take('consumer', (r) => consumerOut[base + r]!));
  }
  return rows;
}

/**
 * Measures heap bytes allocated per record on the producer side (zero-
 * allocation path, object API, output) and the consumer side (raw callback,
 * view callback), in a child process with --expose-gc.
 */
export async function runAllocation(options: StepOptions): Promise<AllocResult> {
  const config: ChildConfig = options.quick ? { records: 10_000, warm: 3, rounds: 3 } : { records: 20_000, warm: 3, rounds: 7 };
  options.progress?.('allocation · child process with --expose-gc');
  const child = fork(fileURLToPath(new URL('./alloc-child.js', import.meta.url)), [JSON.stringify(config)], {
    execArgv: FLAGS,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const rows = await new Promise<AllocRow[]>((resolve, reject) => {
    let result: AllocRow[] | null = null;
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error('allocation: the child process did not finish in 120 s'));
    }, 120_000);
    child.on('message', (m: { rows?: AllocRow[]; error?: string }) => {
      if (m.error !== undefined) reject(new Error(`allocation child: ${m.error}`));
      else if (m.rows !== undefined) result = m.rows;
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (result !== null && code === 0) resolve(result);
      else reject(new Error(`allocation child exited with code ${code}`));
    });
  });
  return { recordsPerRound: config.records, recordSize: RECORD, flags: FLAGS, rows };
}
