// Producers that wait for room (reserveBlocking / reserveAsync, the twin of
// libbpf's user_ring_buffer__reserve_blocking): every record checked, no
// refusal while the consumer keeps coming back, timeouts and aborts honoured.
import { describe, expect, it } from 'vitest';
import { RingBuffer, RingBufferConsumer } from 'wasm-ringbuf';
import { run, watchdog } from '../helpers/run.js';
import { scaled } from '../helpers/workers.js';

describe('producers that wait for room', () => {
  for (const producers of [1, 2, 4]) {
    it(`${producers} blocking producer(s) into a small ring: every record arrives, none is refused, they slept for room`, async () => {
      const count = scaled(40_000) / producers;
      const r = await run({
        name: `room${producers}`,
        producers,
        size: 4096,
        count,
        min: 12,
        max: 300,
        api: 'blocking',
        pollForever: true,
      });
      expect(r.produced).toBe(producers * count);
      expect(r.dropped).toBe(0);
      expect(r.stats.dropped).toBe(0);
      expect(r.stats.roomWaits).toBeGreaterThan(0);
    });
  }

  it('a consumer that never comes back: reserveBlocking() gives up at its timeout and counts one refusal', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    while (rb.reserveRaw(1000) !== 0); // full, and nobody consumes
    const before = rb.stats().dropped;
    expect(rb.reserveBlocking(1000, 30)).toBeNull();
    expect(rb.stats().dropped).toBe(before + 1);
    expect(rb.outputBlocking(new Uint8Array(1000), 0, 0)).toBe(false);
    expect(rb.stats().dropped).toBe(before + 2);
  });

  it('reserveAsync(): resolves once the consumer frees room; times out; an abort rejects and counts nothing', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    const consumer = new RingBufferConsumer(rb, () => {});
    let n = 0;
    while (rb.output(new Uint8Array(1000))) n++;
    const dropped = rb.stats().dropped;
    const waiting = rb.reserveAsync(1000, { timeoutMs: 10_000 });
    expect(consumer.consume()).toBe(n); // frees room: the waiting producer is notified
    const r = await watchdog(waiting, 5_000, () => 'reserveAsync() slept through the consumer freeing room');
    expect(r).not.toBeNull();
    r!.submit();
    while (rb.output(new Uint8Array(1000)));
    expect(await rb.reserveAsync(1000, { timeoutMs: 20 })).toBeNull();
    const ac = new AbortController();
    const aborted = rb.outputAsync(new Uint8Array(1000), 0, { signal: ac.signal });
    ac.abort();
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
    expect(rb.stats().dropped).toBe(dropped + 2); // the output that found it full again, and the timeout: not the abort
    expect(rb.stats().roomWaits).toBeGreaterThanOrEqual(3);
    consumer.close();
  });

  it('bad input is refused before anything waits', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    expect(() => rb.reserveBlocking(5000)).toThrow(RangeError);
    expect(() => rb.reserveBlocking(8, -2)).toThrow(RangeError);
    await expect(rb.reserveAsync(8, { timeoutMs: 'x' as unknown as number })).rejects.toThrow(TypeError);
    await expect(rb.reserveAsync(8, { signal: {} as AbortSignal })).rejects.toThrow(TypeError);
  });
});
