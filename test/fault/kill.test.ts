// Producers terminated at random points — inside reserve, between reserve and
// commit, inside commit, asleep on a full ring — while another producer and
// the consumer carry on. After each kill the owner reaps the dead producer;
// at the end every record anyone committed must have arrived intact and in
// order, and nothing may wait on the dead.
import { describe, expect, it } from 'vitest';
import { BPF_RB_AVAIL_DATA, RingBuffer, RingBufferConsumer } from 'wasm-ringbuf';
import { prng, SequenceVerifier } from '../helpers/sequence.mjs';
import { watchdog } from '../helpers/run.js';
import { scaled, seedFor, startProducers } from '../helpers/workers.js';

const KILLS = scaled(200);

describe('producer death', () => {
  it(`${KILLS} producers killed at random points wedge no one`, async () => {
    const seed = seedFor('kill');
    const rand = prng(seed);
    const [min, max] = [12, 400];
    const rb = await RingBuffer.create({ size: 8192 });
    const verifier = new SequenceVerifier(seed, [], min, max);
    const consumer = new RingBufferConsumer().addRaw(rb, (bytes, offset, length, lost) => {
      verifier.check(bytes, offset, length, lost);
    });
    let stop = false;
    const consuming = (async () => {
      while (!stop && verifier.errors.length === 0) await consumer.poll(20);
    })();

    const survivorCount = scaled(200_000);
    const survivor = startProducers(rb.handle, 1, { seed, count: survivorCount, min, max });
    const survivorId = await survivor.producers[0]!.ready;
    verifier.addProducer(survivorId);
    survivor.go();

    const where = { heldLock: 0, leftBusy: 0, neither: 0 };
    let reaped = 0;
    const ids = new Set<number>();
    for (let k = 0; k < KILLS && verifier.errors.length === 0; k++) {
      // ids come back after a reap: the records carry a tag unique to this victim instead
      const tag = 10_000 + k;
      const { producers, go } = startProducers(rb.handle, 1, { seed, count: 1e9, min, max, tag });
      const victim = producers[0]!;
      victim.done.catch(() => {}); // it never reports: it is killed
      const id = await victim.ready;
      ids.add(id);
      verifier.addProducer(tag);
      go();
      // a random moment to kill it: 0-3 ms into its run (a fault injection point, not a wait for an event)
      await new Promise((resolve) => setTimeout(resolve, rand() % 4));
      await victim.worker.terminate();
      const r = rb.reapProducer(id);
      reaped += r.discarded;
      if (r.lockRecovered) where.heldLock++;
      else if (r.discarded > 0) where.leftBusy++;
      else where.neither++;
    }

    const result = await watchdog(survivor.producers[0]!.done, 60_000, () => `the survivor was wedged [seed ${seed}]`);
    stop = true;
    await consuming;
    consumer.consume();
    await survivor.producers[0]!.worker.terminate();
    console.log(`kills: ${JSON.stringify(where)}, records: ${verifier.records}, seed ${seed}`);

    expect(verifier.errors).toEqual([]);
    expect(result.produced).toBe(survivorCount);
    expect(verifier.next.get(survivorId)).toBe(survivorCount);
    expect(consumer.stalls()).toEqual([]);
    expect(rb.query(BPF_RB_AVAIL_DATA)).toBe(0);
    expect(rb.stats().reaped).toBe(reaped);
    expect(where.leftBusy + where.heldLock).toBeGreaterThan(0); // some kills landed inside a reservation
    expect(ids.size).toBeLessThan(KILLS); // reaped ids were handed out again
    consumer.close();
  });
});
