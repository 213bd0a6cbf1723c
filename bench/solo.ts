// One thread alone: a contender's producer calls and the ring's consumer in
// one worker, no other thread touching the ring. The worker writes a batch
// of records (timed), then drains and checks them (untimed), until its
// quota or time limit; its rate is records per millisecond of writing.
// steady.ts runs it right after the saturation cell that makes the same
// calls across threads, and the matrix (contenders/index.ts) right after the
// raw path's cells, so that "cross-thread ÷ single-thread" is a ratio of two
// runs of the same pass, not of a tinybench figure and a cell minutes apart: a core of a shared machine runs up to 1.7×
// slower for a few hundred milliseconds to seconds at a time when other work
// lands on it (micro.ts).

import { RingBuffer, RingBufferConsumer, type RingBufferHandle } from 'wasm-ringbuf';
import { ringFits, ringStride, type Contender, type RunResult } from './config.js';
import { emitter, type Api } from './contenders/wasm-ring.js';
import { RecordTemplate, Verifier, spawn, type Producer } from './harness.js';
import { withTimeout } from './util.js';

/** Records written between two drains: at most half the ring, so a write never finds it full. */
const BATCH = 1024;
/** Time allowed past the time limit for the worker to start and finish. */
const GRACE_MS = 15_000;

/** Data of the 'solo-producer' worker role. */
interface SoloData {
  handle: RingBufferHandle;
  api: Api;
  quota: number;
  recordSize: number;
  timeLimitMs: number;
  /** Written by the worker: records written and checked, and the milliseconds spent writing them (two f64). */
  out: SharedArrayBuffer;
}

/** What writeAndDrain() measured. */
export interface SoloOutcome {
  /** Records written, and read back in order. */
  records: number;
  /** Milliseconds spent in `write`, the drains left out. */
  writingMs: number;
}

/**
 * Writes records 0, 1, 2 … with `write` in batches, draining `rb` with a
 * consumer of its own after each batch (untimed), until `quota` records or
 * `timeLimitMs`; throws when a record cannot be written though the ring was
 * just drained, or comes back missing, repeated or out of order.
 */
export function writeAndDrain(rb: RingBuffer, write: Producer['write'], quota: number, recordSize: number, timeLimitMs: number): SoloOutcome {
  const words = new Uint32Array(rb.memory.buffer);
  const verifier = new Verifier(1);
  const consumer = new RingBufferConsumer().addRaw(rb, (_bytes, offset) => verifier.record(words[offset >> 2]!, words[(offset >> 2) + 1]!));
  const record = new RecordTemplate(recordSize, 0);
  const batch = Math.min(BATCH, Math.floor(rb.size / ringStride(recordSize) / 2));
  if (batch < 1) throw new RangeError(`a ${rb.size}-byte ring cannot hold two ${recordSize}-byte records`);
  let seq = 0;
  let writingMs = 0;
  try {
    for (const t0 = performance.now(); seq < quota && performance.now() - t0 < timeLimitMs;) {
      const last = Math.min(quota, seq + batch);
      const t = performance.now();
      for (; seq < last; seq++) {
        if (!write(record.stamp(seq), 0)) throw new Error(`record ${seq} found no room, though the ring was drained ${batch} records before`);
      }
      writingMs += performance.now() - t;
      consumer.consume();
      if (verifier.error !== null) throw new Error(verifier.error);
    }
  } finally {
    consumer.close();
  }
  if (verifier.records !== seq) throw new Error(`${seq} records written, ${verifier.records} read back`);
  return { records: seq, writingMs };
}

/** Worker role 'solo-producer': writeAndDrain() over the ring of `data.handle`. */
export async function soloProducer(data: SoloData): Promise<void> {
  const rb = await RingBuffer.attach(data.handle);
  const { records, writingMs } = writeAndDrain(rb, emitter(rb, data.api), data.quota, data.recordSize, data.timeLimitMs);
  const out = new Float64Array(data.out);
  out[0] = records;
  out[1] = writingMs;
}

/** `api`'s calls on one thread alone, the consumer's pass between batches untimed. */
export function solo(name: string, api: Api): Contender {
  return {
    name,
    validate: (config) => {
      if (config.producers !== 1 || config.wakeup !== 'adaptive') return 'one thread: one producer, committing with flags 0';
      if (config.ringBytes < 2 * ringStride(config.recordSize)) return `a ${config.ringBytes}-byte ring cannot hold two records of ${config.recordSize} bytes`;
      return ringFits(config);
    },
    async run(config): Promise<RunResult> {
      const rb = await RingBuffer.create({ size: config.ringBytes });
      const out = new SharedArrayBuffer(16);
      const data: SoloData = { handle: rb.handle, api, quota: config.records, recordSize: config.recordSize, timeLimitMs: config.timeLimitMs, out };
      const { worker, exited } = spawn('solo-producer', data);
      try {
        await withTimeout(exited, config.timeLimitMs + GRACE_MS, 'the one-thread run');
      } finally {
        await worker.terminate(); // at once if it has exited; ends a worker past its time
      }
      const [records, writingMs] = new Float64Array(out) as unknown as [number, number];
      const stats = rb.stats();
      return {
        records, elapsedMs: writingMs, drops: stats.dropped, wakeups: stats.wakeups, lockWaits: stats.lockWaits,
        stopped: records < config.records, producerUsPerRecord: (writingMs * 1000) / records, latency: null, consumerNsPerRecord: null,
      };
    },
  };
}
