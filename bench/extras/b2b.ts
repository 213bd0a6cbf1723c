// Back-to-back, after the kernel's `--rb-b2b`: the consumer triggers each
// batch. One producer worker waits for the trigger, writes K records of 64 B
// as fast as it can, and waits again; the consumer (main thread) takes the
// K records, then triggers the next batch. Nothing overlaps: every batch pays
// a full wakeup round trip, so this measures the per-batch handoff cost plus
// the per-record cost with a cold consumer. wasm-ringbuf (adaptive wakeups,
// `await poll()`) against postMessage, one message per record and 64 records
// per transferred Uint8Array.

import { parentPort } from 'node:worker_threads';
import { RingBuffer, RingBufferConsumer, type RingBufferHandle } from 'wasm-ringbuf';
import { RecordTemplate, spawn } from '../harness.js';
import { median, withTimeout, type StepOptions } from '../util.js';

type Transport = 'ring' | 'pm' | 'pm-batched';

const RECORD = 64;
const PER_MESSAGE = 64; // records per message of the batched postMessage (as bench/contenders/post-message-batched.ts)
const RING_BYTES = 1 << 16;
const TRIGGER = 0; // batches requested so far; -1: stop

const NAMES: Record<Transport, string> = {
  ring: 'wasm-ringbuf (poll, adaptive)',
  pm: 'postMessage',
  'pm-batched': 'postMessage batched (64/msg)',
};

/** One transport at one batch size. */
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

interface ProducerData {
  transport: Transport;
  handle: RingBufferHandle | null;
  ctl: SharedArrayBuffer;
  batch: number;
}

/** Worker role 'b2b-producer'. */
export async function b2bProducer(data: ProducerData): Promise<void> {
  const ctl = new Int32Array(data.ctl);
  const record = new RecordTemplate(RECORD, 0);
  const port = parentPort!;
  let produce: (first: number) => void;
  if (data.transport === 'ring') {
    const rb = await RingBuffer.attach(data.handle!);
    const { bytes } = rb;
    produce = (first) => {
      for (let seq = first; seq < first + data.batch; seq++) {
        const off = rb.reserveRaw(RECORD);
        if (off === 0) throw new Error('b2b: the ring is full, but the consumer had drained it');
        bytes.set(record.stamp(seq), off);
        rb.submitRaw(off, 0);
      }
    };
  } else if (data.transport === 'pm') {
    produce = (first) => {
      for (let seq = first; seq < first + data.batch; seq++) port.postMessage(record.stamp(seq));
    };
  } else {
    produce = (first) => {
      for (let at = 0; at < data.batch; at += PER_MESSAGE) {
        const n = Math.min(PER_MESSAGE, data.batch - at);
        const msg = new Uint8Array(n * RECORD);
        for (let i = 0; i < n; i++) msg.set(record.stamp(first + at + i), i * RECORD);
        port.postMessage(msg, [msg.buffer]);
      }
    };
  }
  port.postMessage('ready');
  for (let done = 0; ; done++) {
    // pairs with the TRIGGER store and notify in the consumer
    while (Atomics.load(ctl, TRIGGER) === done) Atomics.wait(ctl, TRIGGER, done, 5000);
    if (Atomics.load(ctl, TRIGGER) < 0) return;
    produce(done * data.batch);
  }
}

async function once(transport: Transport, batch: number, timeLimitMs: number): Promise<{ recordsPerSec: number; batchesPerSec: number }> {
  const rb = transport === 'ring' ? await RingBuffer.create({ size: RING_BYTES }) : null;
  if (batch * ((RECORD + 15) & ~7) >= RING_BYTES) throw new RangeError(`b2b: a batch of ${batch} does not fit in a ${RING_BYTES}-byte ring`);
  const ctl = new Int32Array(new SharedArrayBuffer(64));
  const w = spawn('b2b-producer', { transport, handle: rb?.handle ?? null, ctl: ctl.buffer, batch } satisfies ProducerData);
  let failed: unknown = null;
  w.exited.catch((e: unknown) => (failed ??= e));
  try {
    await withTimeout(new Promise<void>((resolve) => w.worker.once('message', () => resolve())), 15_000, 'b2b producer start');
    let next = 0; // sequence number due
    let error: string | null = null;
    const check = (seq: number): void => {
      if (seq !== next && error === null) error = `got record ${seq} where ${next} was due`;
      next++;
    };
    const trigger = (): void => {
      Atomics.add(ctl, TRIGGER, 1);
      Atomics.notify(ctl, TRIGGER);
    };
    let t0 = 0;
    let batches = 0;
    /** Called whenever records arrived: triggers the next batch once this one is complete; true when the run is over. */
    const step = (): boolean => {
      if (next < (batches + 1) * batch) return false;
      batches++;
      if (performance.now() - t0 >= timeLimitMs) return true;
      trigger();
      return false;
    };
    if (rb !== null) {
      const words = new Uint32Array(rb.memory.buffer);
      const consumer = new RingBufferConsumer().addRaw(rb, (_b, off) => check(words[(off >> 2) + 1]!));
      t0 = performance.now();
      trigger();
      for (;;) {
        await consumer.poll(1000);
        if (failed !== null) throw failed;
        if (step()) break;
        if (performance.now() - t0 > timeLimitMs + 30_000) throw new Error('b2b: stalled');
      }
    } else {
      const done = new Promise<void>((resolve) => {
        w.worker.on('message', (m: Uint8Array) => {
          const words = new Uint32Array(m.buffer, m.byteOffset, m.byteLength >> 2);
          for (let i = 1; i < words.length; i += RECORD >> 2) check(words[i]!);
          if (step()) resolve();
        });
      });
      t0 = performance.now();
      trigger();
      await withTimeout(Promise.race([done, w.exited.then(() => done)]), timeLimitMs + 30_000, 'b2b run');
    }
    const elapsed = performance.now() - t0;
    if (error !== null) throw new Error(`b2b ${transport}: ${error}`);
    Atomics.store(ctl, TRIGGER, -1);
    Atomics.notify(ctl, TRIGGER);
    await withTimeout(w.exited, 15_000, 'b2b producer exit');
    return { recordsPerSec: (batches * batch * 1000) / elapsed, batchesPerSec: (batches * 1000) / elapsed };
  } finally {
    await w.worker.terminate();
  }
}

/** Back-to-back throughput of wasm-ringbuf and postMessage (plain and batched), batches of 64 and 500 records. */
export async function runBackToBack(options: StepOptions): Promise<B2bResult> {
  const runs = options.quick ? 1 : 3;
  const timeLimitMs = options.quick ? 200 : 1000;
  const transports: Transport[] = ['ring', 'pm', 'pm-batched'];
  const rows: B2bRow[] = [];
  for (const batch of [64, 500]) {
    const rates = transports.map(() => [] as { recordsPerSec: number; batchesPerSec: number }[]);
    for (let run = 1; run <= runs; run++) {
      for (const [i, t] of transports.entries()) {
        options.progress?.(`b2b · batch ${batch} · run ${run}/${runs} · ${NAMES[t]}`);
        rates[i]!.push(await once(t, batch, timeLimitMs));
      }
    }
    const vs = (i: number, j: number): number => median(rates[i]!.map((r, run) => r.recordsPerSec / rates[j]![run]!.recordsPerSec));
    transports.forEach((t, i) => {
      rows.push({
        contender: NAMES[t], batch,
        recordsPerSec: median(rates[i]!.map((r) => r.recordsPerSec)),
        batchesPerSec: median(rates[i]!.map((r) => r.batchesPerSec)),
        vsPostMessage: vs(i, 1), vsBatched: vs(i, 2),
      });
    });
  }
  return { recordSize: RECORD, runs, timeLimitMs, rows };
}
