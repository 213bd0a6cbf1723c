// One thread alone: a contender's producer calls and the ring's consumer in
// one worker, no other thread touching the ring. The worker writes a batch
// of records (timed), then drains and checks them (untimed), until its
// quota or time limit; its rate is records per millisecond of writing.
// steady.ts runs it beside the saturation cell that makes the same calls
// across threads, so that "cross-thread ÷ single-thread" is a ratio of two
// runs a few seconds apart on this machine, not of a tinybench figure and a
// matrix cell minutes apart: a core here runs up to 1.7× slower for seconds
// at a time when other work shares it.

import { RingBuffer, RingBufferConsumer, type RingBufferHandle } from 'wasm-ringbuf';
import { ringFits, ringStride, type Contender, type RunResult } from './config.js';
import { emitter, type Api } from './contenders/wasm-ring.js';
import { RecordTemplate, Verifier, spawn } from './harness.js';
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

/** Worker role 'solo-producer': writes and drains its own ring; throws when a record comes back wrong. */
export async function soloProducer(data: SoloData): Promise<void> {
  const rb = await RingBuffer.attach(data.handle);
  const write = emitter(rb, data.api);
  const words = new Uint32Array(rb.memory.buffer);
  const verifier = new Verifier(1);
  const consumer = new RingBufferConsumer().addRaw(rb, (_bytes, offset) => verifier.record(words[offset >> 2]!, words[(offset >> 2) + 1]!));
  const record = new RecordTemplate(data.recordSize, 0);
  const batch = Math.min(BATCH, Math.floor(rb.size / ringStride(data.recordSize) / 2));
  let seq = 0;
  let writingMs = 0;
  try {
    for (const t0 = performance.now(); seq < data.quota && performance.now() - t0 < data.timeLimitMs;) {
      const last = Math.min(data.quota, seq + batch);
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
  const out = new Float64Array(data.out);
  out[0] = seq;
  out[1] = writingMs;
}

/** `api`'s calls on one thread alone, the consumer's pass between batches untimed. */
export function solo(name: string, api: Api): Contender {
  return {
    name,
    validate: ringFits,
    async run(config): Promise<RunResult> {
      const rb = await RingBuffer.create({ size: config.ringBytes });
      const out = new SharedArrayBuffer(16);
      const data: SoloData = { handle: rb.handle, api, quota: config.records, recordSize: config.recordSize, timeLimitMs: config.timeLimitMs, out };
      await withTimeout(spawn('solo-producer', data).exited, config.timeLimitMs + GRACE_MS, 'the one-thread run');
      const [records, writingMs] = new Float64Array(out) as unknown as [number, number];
      return {
        records, elapsedMs: writingMs, drops: rb.stats().dropped, wakeups: rb.stats().wakeups, lockWaits: rb.stats().lockWaits,
        stopped: records < config.records, producerUsPerRecord: (writingMs * 1000) / records, latency: null,
      };
    },
  };
}
