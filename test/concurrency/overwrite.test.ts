// Overwrite mode under real producers and a consumer that falls behind:
// whatever it receives is intact and in per-producer order (with gaps where
// records were overwritten unread), and every record is either delivered or
// counted as lost.
import { describe, expect, it } from 'vitest';
import { BPF_RB_AVAIL_DATA, RingBuffer, RingBufferConsumer } from 'wasm-ringbuf';
import { SequenceVerifier } from '../helpers/sequence.mjs';
import { scaled, seedFor, startProducers } from '../helpers/workers.js';

describe('overwrite mode with worker producers', () => {
  it('delivers intact records and accounts for every overwritten one', async () => {
    const seed = seedFor('overwrite');
    const [min, max] = [12, 200];
    const rb = await RingBuffer.create({ size: 8192, overwrite: true });
    const { producers, go } = startProducers(rb.handle, 2, { seed, count: scaled(100_000), min, max, retry: false });
    const ids = await Promise.all(producers.map((p) => p.ready));
    const verifier = new SequenceVerifier(seed, ids, min, max, { gaps: true });
    let trailingLost = -1;
    const consumer = new RingBufferConsumer().addRaw(rb, (bytes, offset, length, lost) => {
      if (length === 0) trailingLost = lost;
      else verifier.check(bytes, offset, length, lost);
    });
    let finished = false;
    const results = Promise.all(producers.map((p) => p.done)).finally(() => (finished = true));
    go();
    while (!finished && verifier.errors.length === 0) {
      consumer.consumeN(20); // a consumer that reads in small sips falls behind
      await new Promise((resolve) => setImmediate(resolve));
    }
    const done = await results;
    expect(rb.output(new Uint8Array(0))).toBe(true);
    consumer.consume();
    await Promise.all(producers.map((p) => p.worker.terminate()));
    const produced = done.reduce((s, r) => s + r.produced, 0);
    const stats = rb.stats();
    expect(verifier.errors).toEqual([]);
    expect(stats.overwritten).toBeGreaterThan(0);
    expect(verifier.records + stats.overwritten).toBe(produced);
    expect(verifier.lost + trailingLost).toBe(stats.overwritten + stats.dropped);
    expect(stats.dropped).toBe(done.reduce((s, r) => s + r.dropped, 0));
    expect(rb.query(BPF_RB_AVAIL_DATA)).toBe(0);
  });
});
