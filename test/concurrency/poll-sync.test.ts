// A consumer blocked in pollSync() (Atomics.wait) in a worker, fed in bursts
// by a producer on this thread: every burst must wake it.
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { BPF_RB_AVAIL_DATA, RingBuffer } from 'wasm-ringbuf';
import { OFF_WAIT, RING_BASE } from '../../dist/layout.js';
import { recordLength, writeRecord } from '../helpers/sequence.mjs';
import { scaled, seedFor } from '../helpers/workers.js';

describe('pollSync in a consumer worker', () => {
  it('wakes for every burst, and every record arrives intact', async () => {
    const seed = seedFor('pollsync');
    const rb = await RingBuffer.create({ size: 8192 });
    const expected = scaled(20_000);
    const [min, max] = [12, 80];
    const worker = new Worker(new URL('../fixtures/consumer.mjs', import.meta.url), {
      workerData: { handle: rb.handle, seed, producers: [rb.producerId], min, max, expected },
    });
    const exited = once(worker, 'exit');
    const messages: { type: string; records?: number; errors?: string[]; polls?: number }[] = [];
    const done = new Promise<void>((resolve) =>
      worker.on('message', (m) => (messages.push(m), m.type === 'done' && resolve())),
    );
    await new Promise<void>((resolve) => worker.once('message', () => resolve()));
    const i32 = new Int32Array(rb.bytes.buffer);
    const waitIndex = (RING_BASE + OFF_WAIT) >> 2;
    let seq = 0;
    let bursts = 0;
    const wakeupsBefore = rb.stats().wakeups;
    while (seq < expected) {
      // a burst of 1..8 records, then wait until the consumer has drained it (it then sleeps again)
      const n = Math.min(1 + (seq % 8), expected - seq);
      for (let k = 0; k < n; k++) {
        const len = recordLength(seed, rb.producerId, seq, min, max);
        const off = rb.reserveRaw(len);
        expect(off).not.toBe(0);
        writeRecord(rb.bytes, off, rb.producerId, seq++, len);
        rb.submitRaw(off);
      }
      bursts++;
      // then wait until the consumer has drained it and announced its sleep, so the next burst must wake it
      while (
        (rb.query(BPF_RB_AVAIL_DATA) !== 0 || Atomics.load(i32, waitIndex) !== 1) &&
        messages.every((m) => m.type !== 'stuck' && m.type !== 'done')
      ) {
        await new Promise((r) => setImmediate(r));
      }
      if (messages.some((m) => m.type === 'stuck')) break;
    }
    await done;
    await exited;
    const last = messages.at(-1)!;
    expect(messages.filter((m) => m.type === 'stuck')).toEqual([]);
    expect(last.errors).toEqual([]);
    expect(last.records).toBe(expected);
    expect(bursts).toBeGreaterThan(1000);
    // the consumer was asleep before every burst after the first, so each sent at least one wakeup
    expect(rb.stats().wakeups - wakeupsBefore).toBeGreaterThanOrEqual(bursts - 1);
  });
});
