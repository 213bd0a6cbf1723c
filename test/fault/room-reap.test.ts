// A producer whose worker is terminated while it waits for room leaves no
// trace once it is reaped: its announcement (ROOM_WAITERS) is taken back by
// reapProducer(), and a live producer waiting for room is still woken when
// the consumer frees some.
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { RingBuffer, RingBufferConsumer } from 'wasm-ringbuf';
import { OFF_ROOM_WAITERS } from '../../dist/layout.js';
import { watchdog } from '../helpers/run.js';
import { scaled } from '../helpers/workers.js';

const KILLS = scaled(30);
const LEN = 1000;
const APIS = ['reserve', 'output', 'async'] as const;
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A room-waiter worker; listeners attached at creation. */
function startWaiter(rb: RingBuffer, api: (typeof APIS)[number]) {
  const worker = new Worker(new URL('../fixtures/room-waiter.mjs', import.meta.url), {
    workerData: { handle: rb.handle, api, len: LEN },
  });
  const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
  const failed = new Promise<never>((_, reject) => {
    worker.once('error', reject);
    void exited.then((code) => reject(new Error(`room waiter exited with code ${code} before reporting`)));
  });
  const ready = Promise.race([
    new Promise<number>((resolve) => worker.on('message', (m) => m.type === 'ready' && resolve(m.id))),
    failed,
  ]);
  const done = Promise.race([
    new Promise<boolean>((resolve) => worker.on('message', (m) => m.type === 'done' && resolve(m.ok))),
    failed,
  ]);
  ready.catch(() => {});
  done.catch(() => {});
  return { worker, exited, ready, done };
}

/** Resolves once a producer has announced that it waits for room (stats().roomWaits passed `before`). */
function announced(rb: RingBuffer, before: number, what: string): Promise<void> {
  return watchdog(
    (async () => {
      while (rb.stats().roomWaits <= before) await turn();
    })(),
    10_000,
    () => `${what}: the producer never waited for room`,
  );
}

async function fullRing(): Promise<RingBuffer> {
  const rb = await RingBuffer.create({ size: 4096 });
  while (rb.output(new Uint8Array(LEN)));
  return rb;
}

describe('a producer killed while it waits for room', () => {
  it(`reapProducer() takes its announcement back: ROOM_WAITERS is 0 after each of ${KILLS} kills`, async () => {
    const rb = await fullRing();
    const roomWaiters = () => Atomics.load(rb.core.i32, (rb.core.ctl + OFF_ROOM_WAITERS) >> 2);
    const after: number[] = [];
    for (let k = 0; k < KILLS; k++) {
      const api = APIS[k % APIS.length]!;
      const before = rb.stats().roomWaits;
      const w = startWaiter(rb, api);
      const id = await w.ready;
      await announced(rb, before, `kill ${k} (${api})`);
      await w.worker.terminate();
      await w.exited;
      expect(rb.reapProducer(id)).toEqual({ discarded: 0, lockRecovered: false });
      after.push(roomWaiters());
    }
    expect(after, 'ROOM_WAITERS after each kill and reap').toEqual(after.map(() => 0));
  });

  it('a live producer waiting for room is still woken when the consumer frees room, after kills and reaps', async () => {
    const rb = await fullRing();
    for (let k = 0; k < 3; k++) {
      const before = rb.stats().roomWaits;
      const w = startWaiter(rb, APIS[k]!);
      const id = await w.ready;
      await announced(rb, before, `kill ${k}`);
      await w.worker.terminate();
      await w.exited;
      rb.reapProducer(id);
    }
    for (const api of APIS) {
      const before = rb.stats().roomWaits;
      const live = startWaiter(rb, api);
      await live.ready;
      await announced(rb, before, `live ${api}`);
      const consumer = new RingBufferConsumer(rb, () => {});
      try {
        expect(consumer.consume()).toBeGreaterThan(0); // frees the ring: the waiting producer is notified
        expect(
          await watchdog(live.done, 10_000, () => `the live ${api} waiter slept through the consumer freeing room`),
        ).toBe(true);
        await live.exited;
      } finally {
        consumer.close();
      }
      while (rb.output(new Uint8Array(LEN))); // full again for the next one
    }
  });
});
