// wasm-ringbuf itself: one shared ring, producers in workers, the consumer on
// the main thread. The contenders differ in the producer API they call, in
// how producers claim space (the producer lock or a compare-and-swap), and in
// the consumer's callback (raw offsets, or the README's data views) and
// options.

import { RingBuffer, RingBufferConsumer, type RingBufferHandle, type WaitOptions } from 'wasm-ringbuf';
import { ringFits, type Contender, type RunResult } from '../config.js';
import { consumeLoop, measure, rawWriter, type Producer, type ProducerKind } from '../harness.js';

/**
 * The producer API a contender exercises; `emitter()` maps each to its
 * calls. `'blocking'` is the README's reserve → set → submit with
 * `reserveBlocking()`, which waits for room instead of returning null.
 */
export type Api = 'raw' | 'reserve' | 'output' | 'blocking';

interface Extra {
  handle: RingBufferHandle;
  api: Api;
}

/** Writes one record with `api`; false when the ring has no room now. */
export function emitter(rb: RingBuffer, api: Api): Producer['write'] {
  switch (api) {
    case 'raw':
      return rawWriter(rb);
    case 'reserve':
      return (record, flags) => {
        const r = rb.reserve(record.length);
        if (r === null) return false;
        r.data.set(record);
        r.submit(flags);
        return true;
      };
    case 'output':
      return (record, flags) => rb.output(record, flags);
    case 'blocking':
      return (record, flags) => {
        const r = rb.reserveBlocking(record.length, 10_000);
        if (r === null) return false;
        r.data.set(record);
        r.submit(flags);
        return true;
      };
  }
}

/** The producer side of every wasm-ringbuf contender. */
export const wasmRingProducer: ProducerKind = {
  kind: 'wasm-ring',
  async create(init) {
    const { handle, api } = init.extra as Extra;
    return { write: emitter(await RingBuffer.attach(handle), api) };
  },
};

/** How the consumer is built: the raw callback (default) or the README's view callback, and its options. */
export interface ConsumerSetup {
  view?: boolean;
  /** The consumer's options (`napMs`), when set; the library's defaults otherwise. */
  options?: WaitOptions;
}

/** A wasm-ringbuf contender: `api` on the producer side, `claim` for space, `consumer` as set up. */
export function wasmRing(name: string, api: Api, claim: 'lock' | 'cas', consumer: ConsumerSetup = {}): Contender {
  return {
    name,
    validate: ringFits,
    async run(config): Promise<RunResult> {
      const rb = await RingBuffer.create({ size: config.ringBytes, claim });
      const extra: Extra = { handle: rb.handle, api };
      const words = new Uint32Array(rb.memory.buffer);
      const result = await measure(config, wasmRingProducer, extra, (session) => {
        const c = consumer.view === true
          ? new RingBufferConsumer(rb, (data) => session.record(words, data.byteOffset >> 2), consumer.options)
          : new RingBufferConsumer(undefined, undefined, consumer.options).addRaw(rb, (_bytes, offset) => session.record(words, offset >> 2));
        return consumeLoop(c, config, session).finally(() => c.close());
      });
      const stats = rb.stats();
      if (stats.dropped !== result.drops) {
        throw new Error(`the ring counted ${stats.dropped} refused reservations, its producers ${result.drops}`);
      }
      return { ...result, wakeups: stats.wakeups, lockWaits: stats.lockWaits };
    },
  };
}

/** The zero-allocation path (reserveRaw, copy, submitRaw) under the producer lock, the default. */
export const wasmRawLock = wasmRing('wasm-ringbuf raw lock', 'raw', 'lock');
/** The raw path with the consumer arming after every pass (`napMs: 0`, the kernel's exact wakeup rule). */
export const wasmRawLockNap0 = wasmRing('wasm-ringbuf raw lock, napMs 0', 'raw', 'lock', { options: { napMs: 0 } });
/** The zero-allocation path with the lock-free compare-and-swap claim (`claim: 'cas'`). */
export const wasmRawCas = wasmRing('wasm-ringbuf raw cas', 'raw', 'cas');
/** The object API: reserve() returns a Reservation, its data view is filled, then submit(). */
export const wasmReserve = wasmRing('wasm-ringbuf reserve', 'reserve', 'lock');
/** output(): one call copies the record in and submits it. */
export const wasmOutput = wasmRing('wasm-ringbuf output', 'output', 'lock');
