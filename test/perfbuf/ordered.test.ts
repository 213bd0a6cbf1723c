// The ordered merge under load: real producer workers at skewed rates, with
// pauses, held reservations and an idle slot; one consumer on this thread
// asleep in poll(-1) between records. Every record must arrive once, intact,
// in stamp order with no stamp missing, and causal chains must come out in
// causal order every time.
import { describe, expect, it } from 'vitest';
import { PerfBuffer, PerfBufferConsumer } from 'wasm-ringbuf';
import { watchdog } from '../helpers/run.js';
import { SequenceVerifier } from '../helpers/sequence.mjs';
import { scaled, seedFor } from '../helpers/workers.js';
import { startWorkers } from './workers.js';

interface Done {
  slot: number;
  id: number;
  produced: number;
  dropped: number;
  trailing: number;
}

describe('ordered merge with producer workers', () => {
  it('4 producers, skewed rates, pauses, held reservations, one idle slot: every record once, stamps dense and increasing', async () => {
    const seed = seedFor('perf-ordered');
    const min = 12;
    const max = 200;
    const pb = await PerfBuffer.create({ producers: 5, size: 16384 });
    const idle = await PerfBuffer.attach(pb.handle, 4); // attached, never writes
    const plan = [
      { slot: 0, count: scaled(120_000) }, // flat out
      { slot: 1, count: scaled(40_000), burst: 200, pauseMs: 0.5 }, // bursts
      { slot: 2, count: scaled(20_000), holdEvery: 500, holdMs: 2 }, // takes a stamp, then stalls before committing
      { slot: 3, count: scaled(2_000), burst: 5, pauseMs: 3 }, // a trickle
    ];
    const w = startWorkers<Done>(
      'perf-producer.mjs',
      plan.map((p) => ({ handle: pb.handle, seed, min, max, ...p })),
    );
    try {
      await watchdog(w.ready, 20_000, () => 'producers did not start');
      const expected = plan.reduce((s, p) => s + p.count, 0);
      const verifier = new SequenceVerifier(
        seed,
        plan.map((p) => p.slot + 1),
        min,
        max,
      );
      let nextStamp = 0;
      const order: string[] = [];
      const consumer = new PerfBufferConsumer(pb, {
        sampleRaw: (bytes, offset, length, producer, stamp) => {
          verifier.check(bytes, offset, length);
          if (stamp !== nextStamp && order.length < 5)
            order.push(`stamp ${stamp} where ${nextStamp} was due (producer ${producer}) [seed ${seed}]`);
          if (new DataView(bytes.buffer).getUint32(offset, true) !== producer + 1 && order.length < 5)
            order.push(`slot ${producer} delivered another producer's record`);
          nextStamp = stamp + 1;
        },
        lost: () => {}, // retried refusals: counted, checked against the producers below
      });
      w.go();
      let polls = 0;
      while (verifier.records < expected && verifier.errors.length === 0 && order.length === 0) {
        polls++;
        await watchdog(
          consumer.poll(-1),
          10_000,
          () => `lost wakeup: asleep 10 s after ${verifier.records} of ${expected} records [seed ${seed}]`,
        );
      }
      expect(verifier.errors).toEqual([]);
      expect(order).toEqual([]);
      const done = await watchdog(w.done, 20_000, () => 'producers did not finish');
      expect(verifier.records).toBe(expected);
      expect(nextStamp).toBe(expected);
      for (const d of done) expect(verifier.next.get(d.id)).toBe(d.produced);
      consumer.consume(); // trailing refusals
      expect(consumer.lost().slice(0, 4)).toEqual(done.map((d) => d.dropped));
      expect(consumer.consume()).toBe(0);
      expect(polls).toBeGreaterThan(10);
      idle.close();
    } finally {
      await w.terminate();
    }
  });

  it('causal chains through shared memory come out in causal order, every time, beside two flat-out producers', async () => {
    const seed = seedFor('perf-causal');
    const chain = scaled(5_000);
    const pb = await PerfBuffer.create({ producers: 4, size: 8192 });
    const turn = new SharedArrayBuffer(4);
    const causal = startWorkers<unknown>('perf-causal.mjs', [
      { handle: pb.handle, slot: 0, turn, first: true, count: chain },
      { handle: pb.handle, slot: 1, turn, first: false, count: chain },
    ]);
    const noise = startWorkers<Done>(
      'perf-producer.mjs',
      [2, 3].map((slot) => ({ handle: pb.handle, slot, seed, count: scaled(60_000), min: 12, max: 64 })),
    );
    try {
      await watchdog(Promise.all([causal.ready, noise.ready]), 20_000, () => 'workers did not start');
      const verifier = new SequenceVerifier(seed, [3, 4], 12, 64);
      let nextPos = 0;
      const errors: string[] = [];
      let last = -1;
      const consumer = new PerfBufferConsumer(pb, {
        sampleRaw: (bytes, offset, length, producer, stamp) => {
          if (stamp <= last && errors.length < 5) errors.push(`stamp ${stamp} after ${last}`);
          last = stamp;
          if (producer >= 2) return void verifier.check(bytes, offset, length);
          const dv = new DataView(bytes.buffer);
          const pos = dv.getUint32(offset + 4, true);
          if (
            (pos !== nextPos || dv.getUint32(offset, true) !== producer || pos % 2 !== producer) &&
            errors.length < 5
          ) {
            errors.push(`chain position ${pos} from slot ${producer} where ${nextPos} was due`);
          }
          nextPos = pos + 1;
        },
      });
      noise.go();
      const expected = 2 * chain + 2 * scaled(60_000);
      while (verifier.records + nextPos < expected && errors.length === 0 && verifier.errors.length === 0) {
        await watchdog(consumer.poll(-1), 10_000, () => `lost wakeup after chain position ${nextPos} [seed ${seed}]`);
      }
      await watchdog(Promise.all([causal.done, noise.done]), 20_000, () => 'workers did not finish');
      expect(errors).toEqual([]);
      expect(verifier.errors).toEqual([]);
      expect(nextPos).toBe(2 * chain);
    } finally {
      await causal.terminate();
      await noise.terminate();
    }
  });
});

describe('lost samples with producer workers', () => {
  it("a full buffer: exact counts per producer, each reported right before that producer's next record, trailing ones at the end", async () => {
    const seed = seedFor('perf-lost');
    const pb = await PerfBuffer.create({ producers: 3, size: 4096 });
    const attempts = scaled(30_000);
    const w = startWorkers<Done>(
      'perf-producer.mjs',
      [0, 1, 2].map((slot) => ({
        handle: pb.handle,
        slot,
        seed,
        count: attempts,
        min: 16,
        max: 300,
        retry: false,
        lossTags: true,
        burst: slot === 2 ? 50 : 0,
        pauseMs: 0.2,
      })),
    );
    try {
      await watchdog(w.ready, 20_000, () => 'producers did not start');
      const pending = [0, 0, 0];
      const records = [0, 0, 0];
      const errors: string[] = [];
      let finished = false;
      const consumer = new PerfBufferConsumer(pb, {
        sampleRaw: (bytes, offset, _length, producer) => {
          const dv = new DataView(bytes.buffer);
          const seq = dv.getUint32(offset + 4, true);
          const tag = dv.getUint32(offset + 8, true); // refusals the producer saw since its previous record
          if (seq !== records[producer] && errors.length < 5)
            errors.push(`slot ${producer}: seq ${seq} where ${records[producer]} was due`);
          if (tag !== pending[producer] && errors.length < 5) {
            errors.push(
              `slot ${producer} seq ${seq}: ${pending[producer]} reported lost before it, the producer refused ${tag} [seed ${seed}]`,
            );
          }
          pending[producer] = 0;
          records[producer]!++;
        },
        lost: (producer, count) => void (pending[producer]! += count),
      });
      const done = w.done.finally(() => (finished = true));
      w.go();
      while (!finished && errors.length === 0) await consumer.poll(50);
      const results = await watchdog(done, 20_000, () => 'producers did not finish');
      consumer.consume();
      expect(errors).toEqual([]);
      const dropped = results.map((r) => r.dropped);
      expect(dropped.reduce((a, b) => a + b, 0)).toBeGreaterThan(0); // the buffer did fill
      expect(consumer.lost()).toEqual(dropped);
      expect(pending).toEqual(results.map((r) => r.trailing));
      expect(records).toEqual(results.map((r) => r.produced));
      results.forEach((r, slot) => expect(pb.stats(slot).dropped).toBe(r.dropped));
    } finally {
      await w.terminate();
    }
  });
});
