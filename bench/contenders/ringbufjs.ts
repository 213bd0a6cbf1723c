// ringbuf.js (padenot), the SharedArrayBuffer SPSC byte ring from npm: one
// producer, a consumer that pops what is there and sleeps briefly when it
// finds nothing (ringbuf.js has no wakeup).

import { RingBuffer as SpscRing } from 'ringbuf.js';
import type { Contender } from '../config.js';
import { DRAIN_SLEEP_MS, measure, type ProducerKind } from '../harness.js';
import { sleep } from '../util.js';

/** Bytes the consumer pops per call, at most. */
const CHUNK = 65536;

/** The producer side: pushes whole records, or refuses when a whole record does not fit. */
export const ringbufjsProducer: ProducerKind = {
  kind: 'ringbufjs',
  create(init) {
    const ring = new SpscRing(init.extra as SharedArrayBuffer, Uint8Array);
    return {
      write(record) {
        if (ring.availableWrite() < record.length) return false;
        ring.push(record);
        return true;
      },
    };
  },
};

/** ringbuf.js: single producer only. */
export const ringbufjs: Contender = {
  name: 'ringbuf.js',
  validate(config) {
    if (config.producers !== 1) return 'ringbuf.js is single-producer, single-consumer';
    if (config.wakeup !== 'none' || config.consume !== 'drain') return 'ringbuf.js has no wakeup: only a draining consumer can read it';
    return null;
  },
  run(config) {
    const storage = SpscRing.getStorageForCapacity(config.ringBytes, Uint8Array);
    const ring = new SpscRing(storage, Uint8Array);
    return measure(config, ringbufjsProducer, storage, async (session) => {
      const { verifier } = session;
      const size = config.recordSize;
      const chunk = new Uint8Array(Math.max(1, Math.floor(CHUNK / size)) * size);
      const words = new Uint32Array(chunk.buffer);
      const step = size >> 2;
      while (!verifier.done) {
        // producers push whole records, so what is readable is always a whole number of them
        const n = ring.pop(chunk) >> 2;
        for (let w = 0; w < n; w += step) session.record(words, w);
        if (n === 0) await sleep(DRAIN_SLEEP_MS);
        session.tick();
      }
    });
  },
};
