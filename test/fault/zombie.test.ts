// A reaped producer never writes again, even one that goes on running after
// its reap: a worker whose engine did not stop it at its exit (Deno's go on
// for a while). Here each one is reaped while it runs, which is that state.
// Every record is checked, the other producers carry on, and nothing stays
// in the ring.
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { BPF_RB_AVAIL_DATA, RingBuffer, RingBufferConsumer } from 'wasm-ringbuf';
import { watchdog } from '../helpers/run.js';
import { SequenceVerifier } from '../helpers/sequence.mjs';
import { scaled, seedFor } from '../helpers/workers.js';

const MIN = 12;
const MAX = 300;
const AFTER = 50;

interface Zombie {
  worker: Worker;
  ready: Promise<number>;
  /** Resolves once the worker has submitted `n` records. */
  wrote(n: number): Promise<void>;
  reaped: Promise<{ last: number; codes: string[] }>;
  exited: Promise<number>;
}

function startZombie(rb: RingBuffer, seed: number, tag: number): Zombie {
  const worker = new Worker(new URL('../fixtures/zombie.mjs', import.meta.url), {
    workerData: { handle: rb.handle, seed, tag, min: MIN, max: MAX, after: AFTER },
  });
  // listeners attached at creation: a worker can finish before a later listener would see it
  const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
  const failed = new Promise<never>((_, reject) => worker.once('error', reject));
  let seq = 0;
  const waiters: { n: number; resolve: () => void }[] = [];
  const ready = new Promise<number>((resolve) =>
    worker.on('message', (m) => {
      if (m.type === 'ready') resolve(m.id);
      if (m.type !== 'progress') return;
      seq = m.seq;
      for (const w of waiters.splice(0)) {
        if (seq >= w.n) w.resolve();
        else waiters.push(w);
      }
    }),
  );
  const reaped = new Promise<{ last: number; codes: string[] }>((resolve) =>
    worker.on('message', (m) => m.type === 'reaped' && resolve(m)),
  );
  return {
    worker,
    ready: Promise.race([ready, failed]),
    wrote: (n) => Promise.race([new Promise<void>((resolve) => waiters.push({ n, resolve })), failed]),
    reaped: Promise.race([reaped, failed]),
    exited,
  };
}

describe('a producer reaped while it still runs', () => {
  it('throws ERR_RINGBUF_REAPED on every later call and writes nothing; the others and the consumer carry on', async () => {
    const seed = seedFor('zombie');
    const rb = await RingBuffer.create({ size: 8192 });
    const rounds = scaled(12);
    const verifier = new SequenceVerifier(seed, [], MIN, MAX);
    const consumer = new RingBufferConsumer(rb, (d, lost) => void verifier.check(d, 0, d.length, lost));
    let draining = true;
    const drain = (async () => {
      while (draining) await consumer.poll(5);
    })();
    // a producer that is never reaped writes all along
    const steady = startZombie(rb, seed, 1);
    verifier.addProducer(1);
    const steadyId = await steady.ready;
    const results: { last: number; codes: string[] }[] = [];
    const ids = new Set<number>();
    for (let round = 0; round < rounds; round++) {
      const tag = 100 + round;
      verifier.addProducer(tag);
      const z = startZombie(rb, seed, tag);
      const id = await z.ready;
      ids.add(id);
      // reaped mid-stream, somewhere between two of its records or inside one
      await watchdog(z.wrote(64 + ((round * 37) % 200)), 20_000, () => `producer ${tag} never wrote its records`);
      rb.reapProducer(id);
      results.push(await watchdog(z.reaped, 20_000, () => `producer ${tag} never saw that it was reaped`));
      expect(await z.exited).toBe(0);
    }
    // ids were handed out again after their reaps: the fence is by generation, not by id
    expect(ids.size).toBeLessThan(rounds);
    rb.reapProducer(steadyId); // the way it ends, like the others
    const last = await watchdog(steady.reaped, 20_000, () => 'the steady producer never saw its reap');
    await watchdog(
      (async () => {
        while (rb.query(BPF_RB_AVAIL_DATA) > 0) await new Promise((r) => setTimeout(r, 5));
      })(),
      20_000,
      () => `${rb.query(BPF_RB_AVAIL_DATA)} bytes stayed in the ring`,
    );
    draining = false;
    await drain;
    consumer.close();
    expect(verifier.errors).toEqual([]);
    for (const [i, r] of [...results, last].entries()) {
      expect(r.codes, `producer ${i}`).toEqual(Array(AFTER).fill('ERR_RINGBUF_REAPED'));
      // every record it submitted was delivered, and none after
      expect(verifier.next.get(i < results.length ? 100 + i : 1), `producer ${i}`).toBe(r.last + 1);
    }
    expect(rb.query(BPF_RB_AVAIL_DATA)).toBe(0);
  });
});
