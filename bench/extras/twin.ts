// What the wasm core buys or costs: the plain-JavaScript twin of the protocol
// (bench/js-twin.ts) against wasm-ringbuf, cross-thread (1 and 2 producer
// workers, 64 B records, adaptive wakeups, the consumer on the main thread in
// `poll()`, every record verified) and single-thread (tinybench: the
// zero-allocation reserve + copy + submit, and consume per record).

import { BATCH, timeBatches } from '../micro.js';
import { BPF_RB_FORCE_WAKEUP, RingBuffer, RingBufferConsumer, type RingBufferHandle } from 'wasm-ringbuf';
import { END, RecordTemplate, Verifier, spawn, type Spawned } from '../harness.js';
import { JsRing, JsRingConsumer, type JsRingHandle } from '../js-twin.js';
import { median, type Progress, type StepOptions } from '../util.js';

type Kind = 'wasm' | 'twin';

const RING_BYTES = 1 << 20;
const RECORD = 64;

// control words
const READY = 0;
const GO = 1;
const STOP = 2;
const NAP = 3;
const FIRST = 8; // per producer: WRITTEN, DROPS
/** A producer that found no room sleeps this long before it retries (as bench/harness.ts). */
const BACKOFF_MS = 0.05;

/** One cross-thread cell. */
export interface TwinThroughputRow {
  implementation: 'wasm-ringbuf' | 'js-twin';
  producers: number;
  recordsPerSec: number;
  mbPerSec: number;
  /** Times a producer found the ring full (and backed off), median over runs. */
  drops: number;
  wakeupsPerRecord: number;
  /** This implementation's records/s over wasm-ringbuf's with the same producers, run by run, median. */
  vsWasm: number;
}

/** One single-thread operation. */
export interface TwinMicroRow {
  name: string;
  implementation: 'wasm-ringbuf' | 'js-twin';
  nsPerOp: number;
  /** js-twin ns/op over wasm-ringbuf ns/op for the same operation. */
  vsWasm: number;
}

export interface TwinResult {
  recordSize: number;
  ringBytes: number;
  runs: number;
  throughput: TwinThroughputRow[];
  micro: TwinMicroRow[];
}

interface ProducerData {
  kind: Kind;
  handle: RingBufferHandle | JsRingHandle;
  index: number;
  quota: number;
  ctl: SharedArrayBuffer;
}

/** Worker role 'tp-producer': the harness's producer loop over either implementation's raw path. */
export async function twinProducer(data: ProducerData): Promise<void> {
  const ring = data.kind === 'wasm' ? await RingBuffer.attach(data.handle as RingBufferHandle) : JsRing.attach(data.handle as JsRingHandle);
  const { bytes } = ring;
  const record = new RecordTemplate(RECORD, data.index);
  const emit = (seq: number, flags: number): boolean => {
    const off = ring.reserveRaw(RECORD);
    if (off === 0) return false;
    bytes.set(record.stamp(seq), off);
    ring.submitRaw(off, flags);
    return true;
  };
  const ctl = new Int32Array(data.ctl);
  Atomics.add(ctl, READY, 1);
  Atomics.notify(ctl, READY);
  Atomics.wait(ctl, GO, 0, 30_000);
  let drops = 0;
  let seq = 0;
  for (; seq < data.quota; seq++) {
    if ((seq & 255) === 0 && Atomics.load(ctl, STOP) !== 0) break;
    while (!emit(seq, 0)) {
      drops++;
      Atomics.wait(ctl, NAP, 0, BACKOFF_MS);
    }
  }
  while (!emit(END, BPF_RB_FORCE_WAKEUP)) Atomics.wait(ctl, NAP, 0, BACKOFF_MS);
  Atomics.store(ctl, FIRST + 2 * data.index, seq);
  Atomics.store(ctl, FIRST + 2 * data.index + 1, drops);
}

interface Measured {
  recordsPerSec: number;
  drops: number;
  wakeups: number;
}

async function once(kind: Kind, producers: number, records: number, timeLimitMs: number): Promise<Measured> {
  const wasm = kind === 'wasm' ? await RingBuffer.create({ size: RING_BYTES }) : null;
  const twin = kind === 'twin' ? JsRing.create(RING_BYTES) : null;
  const handle = wasm?.handle ?? twin!.handle;
  const ctl = new Int32Array(new SharedArrayBuffer(4 * (FIRST + 2 * producers)));
  const verifier = new Verifier(producers);
  const quota = Math.floor(records / producers);
  const workers: Spawned[] = [];
  let failed: unknown = null;
  try {
    for (let index = 0; index < producers; index++) {
      const w = spawn('tp-producer', { kind, handle, index, quota, ctl: ctl.buffer } satisfies ProducerData);
      w.exited.catch((e: unknown) => (failed ??= e));
      workers.push(w);
    }
    const ready = performance.now() + 15_000;
    for (let r = Atomics.load(ctl, READY); r < producers; r = Atomics.load(ctl, READY)) {
      if (failed !== null) throw failed;
      if (performance.now() > ready) throw new Error('twin: producers did not start');
      const w = Atomics.waitAsync(ctl, READY, r, 100);
      if (w.async) await w.value;
    }
    let poll: (ms: number) => Promise<number>;
    if (wasm !== null) {
      const words = new Uint32Array(wasm.memory.buffer);
      const c = new RingBufferConsumer().addRaw(wasm, (_b, off) => verifier.record(words[off >> 2]!, words[(off >> 2) + 1]!));
      poll = (ms) => c.poll(ms);
    } else {
      const words = new Uint32Array(twin!.sab);
      const c = new JsRingConsumer(twin!, (_b, off) => verifier.record(words[off >> 2]!, words[(off >> 2) + 1]!));
      poll = (ms) => c.poll(ms);
    }
    const t0 = performance.now();
    Atomics.store(ctl, GO, 1);
    Atomics.notify(ctl, GO);
    let stopped = false;
    while (!verifier.done) {
      await poll(1000);
      const now = performance.now();
      if (!stopped && now - t0 > timeLimitMs) {
        stopped = true;
        Atomics.store(ctl, STOP, 1);
      }
      if (failed !== null) throw failed;
      if (now - t0 > timeLimitMs + 30_000) throw new Error('twin: the consumer did not get every END record');
    }
    const elapsed = performance.now() - t0;
    if (verifier.error !== null) throw new Error(verifier.error);
    await Promise.all(workers.map((w) => w.exited));
    let drops = 0;
    for (let i = 0; i < producers; i++) {
      const written = Atomics.load(ctl, FIRST + 2 * i);
      if (written !== verifier.received(i)) throw new Error(`twin: producer ${i} wrote ${written}, the consumer got ${verifier.received(i)}`);
      drops += Atomics.load(ctl, FIRST + 2 * i + 1);
    }
    const wakeups = wasm !== null ? wasm.stats().wakeups : twin!.stats().wakeups;
    return { recordsPerSec: (verifier.records * 1000) / elapsed, drops, wakeups: wakeups / Math.max(1, verifier.records) };
  } finally {
    await Promise.all(workers.map((w) => w.worker.terminate()));
  }
}

interface Ops {
  reserveRaw(len: number): number;
  submitRaw(offset: number, flags?: number): void;
  readonly bytes: Uint8Array;
}

async function micro(quick: boolean, progress?: Progress): Promise<TwinMicroRow[]> {
  const wasm = await RingBuffer.create({ size: RING_BYTES });
  const twin = JsRing.create(RING_BYTES);
  const record = new RecordTemplate(RECORD, 0);
  let sink = 0;
  const wasmWords = new Uint32Array(wasm.memory.buffer);
  const twinWords = new Uint32Array(twin.sab);
  const wasmConsumer = new RingBufferConsumer().addRaw(wasm, (_b, off) => {
    sink = (sink + wasmWords[off >> 2]!) & 0xffff;
  });
  const twinConsumer = new JsRingConsumer(twin, (_b, off) => {
    sink = (sink + twinWords[off >> 2]!) & 0xffff;
  });
  const produce = (ring: Ops): void => {
    const { bytes } = ring;
    for (let i = 0; i < BATCH; i++) {
      const off = ring.reserveRaw(RECORD);
      if (off === 0) throw new Error('the ring is full: the batch is larger than the ring');
      bytes.set(record.stamp(i), off);
      ring.submitRaw(off, 0);
    }
  };
  const timed = (body: () => void): number => {
    const t0 = performance.now();
    body();
    return performance.now() - t0;
  };
  const tasks: { name: string; implementation: 'wasm-ringbuf' | 'js-twin'; batch: () => number }[] = [
    { name: 'reserveRaw + copy + submitRaw, 64 B', implementation: 'wasm-ringbuf', batch: () => { const ms = timed(() => produce(wasm)); wasmConsumer.consume(); return ms; } },
    { name: 'reserveRaw + copy + submitRaw, 64 B', implementation: 'js-twin', batch: () => { const ms = timed(() => produce(twin)); twinConsumer.consume(); return ms; } },
    { name: 'consume, per 64 B record', implementation: 'wasm-ringbuf', batch: () => { produce(wasm); return timed(() => wasmConsumer.consume()); } },
    { name: 'consume, per 64 B record', implementation: 'js-twin', batch: () => { produce(twin); return timed(() => twinConsumer.consume()); } },
  ];
  const rows: TwinMicroRow[] = [];
  for (const t of tasks) {
    progress?.(`twin · micro · ${t.implementation} · ${t.name}`);
    const result = await timeBatches(`${t.name} (${t.implementation})`, t.batch, quick);
    rows.push({ name: t.name, implementation: t.implementation, nsPerOp: result.latency.p50 * 1e6, vsWasm: NaN });
  }
  if (sink === -1) console.log(sink);
  for (const row of rows) {
    const base = rows.find((r) => r.name === row.name && r.implementation === 'wasm-ringbuf');
    if (base !== undefined) row.vsWasm = row.nsPerOp / base.nsPerOp;
  }
  return rows;
}

/** Cross-thread throughput and single-thread cost of the JS twin next to wasm-ringbuf. */
export async function runJsTwin(options: StepOptions): Promise<TwinResult> {
  const runs = options.quick ? 1 : 3;
  const records = options.quick ? 100_000 : 4_000_000;
  const timeLimitMs = options.quick ? 300 : 1000;
  const cells: { kind: Kind; producers: number; m: Measured[] }[] = [];
  for (const producers of [1, 2]) for (const kind of ['wasm', 'twin'] as const) cells.push({ kind, producers, m: [] });
  for (let run = 1; run <= runs; run++) {
    for (const cell of cells) {
      options.progress?.(`twin · run ${run}/${runs} · ${cell.kind} · ${cell.producers}p`);
      cell.m.push(await once(cell.kind, cell.producers, records, timeLimitMs));
    }
  }
  const throughput: TwinThroughputRow[] = cells.map((cell) => {
    const base = cells.find((c) => c.kind === 'wasm' && c.producers === cell.producers)!;
    const rate = median(cell.m.map((m) => m.recordsPerSec));
    return {
      implementation: cell.kind === 'wasm' ? 'wasm-ringbuf' : 'js-twin',
      producers: cell.producers,
      recordsPerSec: rate,
      mbPerSec: (rate * RECORD) / 1e6,
      drops: median(cell.m.map((m) => m.drops)),
      wakeupsPerRecord: median(cell.m.map((m) => m.wakeups)),
      vsWasm: median(cell.m.map((m, run) => m.recordsPerSec / base.m[run]!.recordsPerSec)),
    };
  });
  return { recordSize: RECORD, ringBytes: RING_BYTES, runs, throughput, micro: await micro(options.quick, options.progress) };
}
