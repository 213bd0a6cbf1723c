// ringbuf.js (padenot), the SharedArrayBuffer single-producer byte ring from
// npm: one producer; ringbuf.js has no wakeup, so its consumer pops what is
// there and sleeps 1 ms when it finds nothing (the NO_WAKEUP cells).

import { RingBuffer as SpscRing } from 'ringbuf.js';
import { DRAIN_SLEEP_MS, commonRefusal, type Contender } from '../harness.js';
import { sleep } from '../util.js';

/** Bytes the consumer pops per call, at most. */
const CHUNK = 65536;

interface State {
  ring: SpscRing;
  recordSize: number;
  /** Bytes popped in all. */
  bytes: number;
}

export const ringbufjs: Contender<State> = {
  name: 'ringbuf.js',
  validate(config) {
    const common = commonRefusal(config);
    if (common !== null) return common;
    if (config.producers !== 1) return 'ringbuf.js is single-producer, single-consumer';
    return config.wakeup !== 'NO_WAKEUP' ? 'ringbuf.js has no wakeup: only a draining consumer can read it' : null;
  },
  async setup(config) {
    const storage = SpscRing.getStorageForCapacity(config.ringBytes, Uint8Array);
    return {
      state: { ring: new SpscRing(storage, Uint8Array), recordSize: config.recordSize, bytes: 0 },
      shared: storage,
    };
  },
  producer(init) {
    const ring = new SpscRing(init.shared as SharedArrayBuffer, Uint8Array);
    return {
      // whole records only: refused when a whole record does not fit
      write: (record) => ring.availableWrite() >= record.length && ring.push(record) === record.length,
    };
  },
  async consumer(state, config, session) {
    const size = config.recordSize;
    const chunk = new Uint8Array(Math.max(1, Math.floor(CHUNK / size)) * size);
    const words = new Uint32Array(chunk.buffer);
    const step = size >> 2;
    while (!session.done) {
      // producers push whole records, so what is readable is always a whole number of them
      const n = state.ring.pop(chunk);
      state.bytes += n;
      for (let w = 0; w < n >> 2; w += step) session.record(words, w);
      if (n === 0) await sleep(DRAIN_SLEEP_MS);
      session.tick();
    }
  },
  // ringbuf.js counts no refusals of its own: the producers' count
  measure: (state, session) => ({
    records: state.bytes / state.recordSize - session.verifier.producers,
    drops: session.producerDrops(),
    wakeups: null,
  }),
  report: () => 'push(); pop(), sleep 1 ms when empty',
};
