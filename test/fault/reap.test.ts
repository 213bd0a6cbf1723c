// A producer that dies never wedges the others: reapProducer() releases the
// lock it held and discards what it left BUSY.
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import {
  BPF_RB_AVAIL_DATA,
  RingBuffer,
  RingBufferConsumer,
  RingBufferRangeError,
  RingBufferStateError,
} from 'wasm-ringbuf';
import { LOCK_HELD, OFF_LOCK, RING_BASE } from '../../dist/layout.js';
import { watchdog } from '../helpers/run.js';
import { startProducers } from '../helpers/workers.js';

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

function collect(rb: RingBuffer) {
  const got: number[] = [];
  return { c: new RingBufferConsumer(rb, (d) => void got.push(d[0]!)), got };
}

describe('reapProducer', () => {
  it('discards a reservation a dead producer left BUSY, and the consumer carries on', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    const dead = await RingBuffer.attach(rb.handle);
    const { c, got } = collect(rb);
    rb.output(new Uint8Array([1]));
    expect(dead.reserve(10)).not.toBeNull(); // never committed
    rb.output(new Uint8Array([2]));
    expect(c.consume()).toBe(1);
    const [stall, ...more] = c.stalls(0);
    expect(more).toEqual([]);
    expect(stall!.ring === rb).toBe(true);
    expect([stall!.producerId, stall!.position]).toEqual([dead.producerId, 16]);
    expect(c.stalls(60_000)).toEqual([]); // not stalled for a minute yet
    expect(rb.reapProducer(dead.producerId)).toEqual({ discarded: 1, lockRecovered: false });
    expect(c.consume()).toBe(1);
    expect(got).toEqual([1, 2]);
    expect(c.stalls(0)).toEqual([]);
    expect(rb.stats().reaped).toBe(1);
    expect(rb.producerStats(dead.producerId).discarded).toBe(1);
    expect(rb.query(BPF_RB_AVAIL_DATA)).toBe(0);
  });

  it('recovers the lock of a producer that died holding it, waking a producer asleep on it', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    const dead = await RingBuffer.attach(rb.handle);
    // the state a producer terminated inside reserve() leaves: the lock held under its id
    Atomics.store(new Int32Array(rb.bytes.buffer), (RING_BASE + OFF_LOCK) >> 2, LOCK_HELD | dead.producerId);
    const { producers, go } = startProducers(rb.handle, 1, { seed: 1, count: 5, min: 12, max: 40 });
    const [p] = producers;
    await p!.ready;
    go();
    // the live producer spins, then sleeps on the lock
    await watchdog(
      (async () => {
        while (rb.stats().lockWaits === 0) await turn();
      })(),
      10_000,
      () => 'the producer never waited on the lock',
    );
    expect(rb.lockHolder()).toBe(dead.producerId);
    expect(rb.reapProducer(dead.producerId)).toEqual({ discarded: 0, lockRecovered: true });
    const result = await watchdog(p!.done, 10_000, () => 'the producer stayed asleep on a recovered lock');
    expect(rb.lockHolder()).toBeNull();
    expect(result).toMatchObject({ produced: 5, dropped: 0 });
    const { c } = collect(rb);
    expect(c.consume()).toBe(5);
    await p!.worker.terminate();
  });

  it('cleans up after a worker terminated between reserve and commit', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    const { producers, go } = startProducers(rb.handle, 1, { seed: 1, count: 1, min: 12, max: 12, hold: true });
    const [p] = producers;
    p!.done.catch(() => {}); // it is terminated before it reports
    const id = await p!.ready;
    const holding = new Promise((resolve) => p!.worker.on('message', (m) => m.type === 'holding' && resolve(m)));
    go();
    await holding;
    rb.output(new Uint8Array([7])); // committed behind the leaked reservation
    const { c, got } = collect(rb);
    expect(c.consume()).toBe(0);
    const exited = once(p!.worker, 'exit');
    await p!.worker.terminate();
    await exited;
    expect(c.stalls().map((st) => st.producerId)).toEqual([id]);
    expect(rb.reapProducer(id)).toEqual({ discarded: 1, lockRecovered: false });
    expect(c.consume()).toBe(1);
    expect(got).toEqual([7]);
  });

  it('refuses ids it cannot reap', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    expect(() => rb.reapProducer(0)).toThrow(RingBufferRangeError);
    expect(() => rb.reapProducer(77)).toThrow(/never handed out/);
    expect(() => rb.reapProducer(rb.producerId)).toThrow(RingBufferStateError);
    expect(() => rb.reapProducer(-1)).toThrow(RangeError);
  });
});

describe('scoped reservations', () => {
  it('a using declaration discards a reservation the block did not commit', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    const { c, got } = collect(rb);
    const fill = (fail: boolean) => {
      using r = rb.reserve(1)!;
      r.data[0] = 9;
      if (fail) throw new Error('fill failed');
      r.submit();
    };
    expect(() => fill(true)).toThrow('fill failed');
    fill(false);
    expect(c.consume()).toBe(1);
    expect(got).toEqual([9]);
    expect(rb.stats().discarded).toBe(1);
  });

  it('a consumer asleep at a record that write() or a using block discards is woken, and wakes for the next', async () => {
    for (const how of ['write', 'using'] as const) {
      const rb = await RingBuffer.create({ size: 4096 });
      const { c, got } = collect(rb);
      const asleep = c.poll(-1); // caught up: it sleeps at the next record's position
      if (how === 'write') {
        expect(() =>
          rb.write(4, () => {
            throw new Error('fill failed');
          }),
        ).toThrow('fill failed');
      } else {
        expect(() => {
          using r = rb.reserve(4)!;
          void r;
          throw new Error('block failed');
        }).toThrow('block failed');
      }
      rb.output(new Uint8Array([8]));
      expect(await watchdog(asleep, 5000, () => `${how}: the consumer stayed asleep past a discarded record`)).toBe(1);
      expect(got).toEqual([8]);
      expect(rb.stats().discarded).toBe(1);
    }
  });

  it('write() submits what its callback filled and discards on a throw', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    const { c, got } = collect(rb);
    expect(rb.write(1, (d) => void (d[0] = 5))).toBe(true);
    expect(() =>
      rb.write(1, () => {
        throw new Error('nope');
      }),
    ).toThrow('nope');
    expect(rb.write(5000 - 1000, () => {})).toBe(true);
    expect(rb.write(4000, () => {})).toBe(false);
    expect(c.consume()).toBe(2);
    expect(got[0]).toBe(5);
    expect(rb.stats()).toMatchObject({ discarded: 1, dropped: 1 });
    expect(c.stalls()).toEqual([]);
  });
});
