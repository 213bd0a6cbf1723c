// Wakeup moderation: after a pass that delivered, a consumer naps for its
// latency budget instead of arming. Every new state is watched for a lost
// wakeup: a nap, FORCE during a nap, close() and abort during a nap, and
// real producers against a consumer that naps and arms thousands of times.
import { describe, expect, it } from 'vitest';
import { BPF_RB_FORCE_WAKEUP, RingBuffer, RingBufferConsumer } from 'wasm-ringbuf';
import { OFF_WAIT, WAIT_AWAKE } from '../../dist/layout.js';
import { run, watchdog } from '../helpers/run.js';
import { scaled } from '../helpers/workers.js';

/** Resolves to 'pending' if `p` has not settled after `ms` (a bound for an observation, not a wait for an event). */
function stillPending<T>(p: Promise<T>, ms: number): Promise<T | 'pending'> {
  return Promise.race([p, new Promise<'pending'>((resolve) => setTimeout(() => resolve('pending'), ms))]);
}

/**
 * A consumer that has just delivered records at a high rate (bursts of 40,
 * polled back to back), so that its next poll naps for `napMs`.
 */
async function busyConsumer(napMs: number) {
  // a large ring: the nap is cut short when the ring would fill past a quarter at the rate seen
  const rb = await RingBuffer.create({ size: 1 << 24, maxRecord: 64 });
  const got: number[] = [];
  const busy = new RingBufferConsumer(rb, (d) => void got.push(d[0]!), { napMs });
  for (let burst = 0; burst < 20; burst++) {
    for (let i = 0; i < 40; i++) rb.output(new Uint8Array([0]));
    expect(await busy.poll(0)).toBe(40);
  }
  got.length = 0;
  return { rb, consumer: busy, got };
}

describe('wakeup moderation', () => {
  it('a nap: adaptive commits do not end it, and it drains what came meanwhile', async () => {
    const { rb, consumer, got } = await busyConsumer(200);
    const poll = consumer.poll(-1); // naps up to 200 ms
    for (let i = 1; i <= 5; i++) rb.output(new Uint8Array([i]));
    expect(await stillPending(poll, 20)).toBe('pending');
    expect(await watchdog(poll, 5_000, () => 'the nap never ended')).toBe(5);
    expect(got).toEqual([1, 2, 3, 4, 5]);
    expect(rb.stats().wakeups).toBe(0); // not one notification for the five records
    consumer.close();
  });

  it('BPF_RB_FORCE_WAKEUP ends a nap at once', async () => {
    const { rb, consumer } = await busyConsumer(60_000);
    const poll = consumer.poll(-1);
    rb.output(new Uint8Array([1]));
    rb.output(new Uint8Array([2]), BPF_RB_FORCE_WAKEUP);
    expect(await watchdog(poll, 5_000, () => 'FORCE did not end a 60 s nap')).toBe(2);
    expect(rb.stats().wakeups).toBe(1);
    consumer.close();
  });

  it('close() and an AbortSignal end a nap', async () => {
    const a = await busyConsumer(60_000);
    const closing = a.consumer.poll(-1);
    a.consumer.close();
    expect(await watchdog(closing, 5_000, () => 'close() did not end a nap')).toBe(0);
    const b = await busyConsumer(60_000);
    const ac = new AbortController();
    const aborted = b.consumer.poll(-1, { signal: ac.signal });
    ac.abort();
    await expect(watchdog(aborted, 5_000, () => 'abort did not end a nap')).rejects.toMatchObject({
      name: 'AbortError',
    });
    b.consumer.close();
  });

  it('a poll refused by a signal aborted already, or aborted in its sleep, leaves the consumer ready for the next poll', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    const got: number[] = [];
    const consumer = new RingBufferConsumer(rb, (d) => void got.push(d[0]!));
    const early = new AbortController();
    early.abort();
    await expect(consumer.poll(-1, { signal: early.signal })).rejects.toMatchObject({ name: 'AbortError' });
    rb.output(new Uint8Array([1]));
    expect(await consumer.poll(0)).toBe(1);
    const late = new AbortController();
    const asleep = consumer.poll(-1, { signal: late.signal });
    late.abort();
    await expect(watchdog(asleep, 5_000, () => 'abort did not end a sleep')).rejects.toMatchObject({
      name: 'AbortError',
    });
    // the next poll sleeps and is woken by the next record's commit, as before the abort
    const next = consumer.poll(-1);
    rb.output(new Uint8Array([2]));
    expect(await watchdog(next, 5_000, () => 'no wakeup after an aborted poll')).toBe(1);
    expect(got).toEqual([1, 2]);
    consumer.close();
  });

  it('a sleep that cannot begin (no Atomics.waitAsync, nothing to stand in) leaves WAIT awake and the consumer ready', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    const consumer = new RingBufferConsumer(rb, () => {});
    const waitWord = (): number => Atomics.load(rb.core.i32, (rb.core.ctl + OFF_WAIT) >> 2);
    const waitAsync = Atomics.waitAsync;
    delete (Atomics as { waitAsync?: unknown }).waitAsync; // Node has no global Worker to stand in
    try {
      await expect(consumer.poll(50)).rejects.toMatchObject({ code: 'ERR_RINGBUF_NO_WAIT' });
    } finally {
      Atomics.waitAsync = waitAsync;
    }
    expect(waitWord()).toBe(WAIT_AWAKE); // a commit now would not pay for a wakeup nobody waits for
    const next = consumer.poll(-1);
    rb.output(new Uint8Array([1]));
    expect(await watchdog(next, 5_000, () => 'no wakeup after a failed sleep')).toBe(1);
    consumer.close();
  });

  it('records that come slowly (one now and then) do not make it nap: it arms, and each wakes it at once', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    const consumer = new RingBufferConsumer(rb, () => {}, { napMs: 60_000 });
    for (let i = 0; i < 5; i++) {
      const poll = consumer.poll(-1);
      rb.output(new Uint8Array([i]));
      expect(await watchdog(poll, 5_000, () => 'a slow stream was made to wait out a 60 s nap')).toBe(1);
    }
    expect(rb.stats().wakeups).toBe(5);
    consumer.close();
  });

  it('records that come fast but one at a time (request/response) do not make it nap: each wakes it at once', async () => {
    const rb = await RingBuffer.create({ size: 1 << 16 });
    const consumer = new RingBufferConsumer(rb, () => {}, { napMs: 60_000 });
    const t0 = performance.now();
    for (let i = 0; i < 500; i++) {
      const poll = consumer.poll(-1);
      rb.output(new Uint8Array([i]));
      expect(await watchdog(poll, 5_000, () => `record ${i}, alone in the ring, waited out a 60 s nap`)).toBe(1);
    }
    // far above the rate at which a consumer naps (4 records a millisecond), had each pass found more than one
    expect(500 / (performance.now() - t0)).toBeGreaterThan(4);
    expect(rb.stats().wakeups).toBe(500);
    consumer.close();
  });

  it('a nap that finds nothing arms next: the consumer then sleeps until a wakeup, as without moderation', async () => {
    const { rb, consumer } = await busyConsumer(5);
    expect(await consumer.poll(50)).toBe(0); // naps 5 ms, finds nothing, arms, times out
    const poll = consumer.poll(-1); // arms at once
    rb.output(new Uint8Array([1]));
    expect(await watchdog(poll, 5_000, () => 'asleep after a nap found nothing')).toBe(1);
    expect(rb.stats().wakeups).toBe(1);
    consumer.close();
  });

  it('worker producers in bursts, a consumer in poll(-1) with the default budget: thousands of naps and sleeps, nothing left waiting', async () => {
    const r = await run({
      name: 'nap',
      producers: 2,
      size: 16384,
      count: scaled(12_000),
      min: 12,
      max: 64,
      api: 'raw',
      burst: 5,
      pollForever: true,
    });
    expect(r.produced).toBe(2 * scaled(12_000));
    expect(r.polls).toBeGreaterThan(300); // each poll a nap or a sleep, every one under the watchdog
  });

  it('FORCE every few records while the consumer naps and arms', async () => {
    const r = await run({
      name: 'napforce',
      producers: 2,
      size: 16384,
      count: scaled(12_000),
      min: 12,
      max: 64,
      api: 'raw',
      burst: 3,
      flags: BPF_RB_FORCE_WAKEUP,
      pollForever: true,
    });
    expect(r.produced).toBe(2 * scaled(12_000));
    expect(r.stats.wakeups).toBeGreaterThan(100);
  });
});
