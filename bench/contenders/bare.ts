// The bare SPSC: the simplest cross-thread record pipe in JavaScript, for
// scale. One producer, one consumer that never sleeps (it yields to the
// event loop when it finds nothing), no wakeup, no lock, no header protocol:
// a length word and the payload, then the producer position (one atomic
// store per record); the consumer walks up to that position and stores its
// own every sixteenth of the ring. A contender's ratio to it is what the
// rest of its protocol costs, or saves, against moving the bytes alone.

import type { Contender } from '../config.js';
import { measure, type ProducerKind } from '../harness.js';

/** One turn of the event loop, and no more: the consumer spins, but timers and messages still run. */
const yieldTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Byte offsets: each position on its own 128-byte pair of lines, then the data. */
const PROD = 0;
const CONS = 128;
const DATA = 256;

function stride(len: number): number {
  return (len + 4 + 7) & ~7;
}

/** Data area plus an overhang, so that every record is contiguous. */
function storage(ringBytes: number, recordSize: number): SharedArrayBuffer {
  return new SharedArrayBuffer(DATA + ringBytes + stride(recordSize));
}

/** The producer side: a length word and the payload, then the position. */
export const bareProducer: ProducerKind = {
  kind: 'bare',
  create(init) {
    const sab = init.extra as SharedArrayBuffer;
    const i32 = new Int32Array(sab);
    const bytes = new Uint8Array(sab);
    const size = sab.byteLength - DATA - stride(init.recordSize);
    const mask = size - 1;
    let prod = 0;
    let cons = 0;
    return {
      write(record) {
        const step = stride(record.length);
        if (prod + step - cons > mask) {
          cons = Atomics.load(i32, CONS >> 2);
          if (prod + step - cons > mask) return false;
        }
        const at = DATA + (prod & mask);
        i32[at >> 2] = record.length;
        bytes.set(record, at + 4);
        prod += step;
        Atomics.store(i32, PROD >> 2, prod); // release: the record before the position
        return true;
      },
    };
  },
};

/** The bare SPSC: one producer, a consumer that spins. */
export const bare: Contender = {
  name: 'bare SPSC',
  validate(config) {
    if (config.producers !== 1) return 'the bare SPSC has one producer';
    if (config.wakeup !== 'none' || config.consume !== 'drain') return 'the bare SPSC has no wakeup: its consumer spins, so it runs with the draining consumers';
    if (config.recordSize % 8 !== 0) return 'the bare SPSC takes records of a multiple of 8 bytes';
    return null;
  },
  run(config) {
    const sab = storage(config.ringBytes, config.recordSize);
    const i32 = new Int32Array(sab);
    const words = new Uint32Array(sab);
    const mask = config.ringBytes - 1;
    const publishEvery = config.ringBytes / 16;
    return measure(config, bareProducer, sab, async (session) => {
      const { verifier } = session;
      let cons = 0;
      let published = 0;
      while (!verifier.done) {
        let prod = Atomics.load(i32, PROD >> 2); // acquire: pairs with the producer's store
        if (prod === cons) {
          await yieldTurn();
          session.tick();
          continue;
        }
        while (cons !== prod) {
          const at = DATA + (cons & mask);
          const len = i32[at >> 2]!;
          session.record(words, (at + 4) >> 2);
          cons += stride(len);
          if (cons === prod) prod = Atomics.load(i32, PROD >> 2);
          if (cons - published >= publishEvery) {
            Atomics.store(i32, CONS >> 2, cons);
            published = cons;
          }
        }
        Atomics.store(i32, CONS >> 2, cons);
        published = cons;
        session.tick();
      }
    });
  },
};
