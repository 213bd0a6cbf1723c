// postMessage, 64 records packed in one Uint8Array whose buffer is
// transferred: what a careful user writes today. In-flight records are bounded
// as for plain postMessage (see post-message.ts).

import { parentPort } from 'node:worker_threads';
import { ringStride, type Contender } from '../config.js';
import { ackWord, measure, type ProducerKind } from '../harness.js';

/** Records per message. */
const BATCH = 64;

/** The producer side: packs records into a batch and transfers it when full (and on flush()). */
export const batchedProducer: ProducerKind = {
  kind: 'post-message-batched',
  create(init) {
    const port = parentPort!;
    const control = new Int32Array(init.control);
    const ack = ackWord(init.index);
    const size = init.recordSize;
    let batch = new Uint8Array(BATCH * size);
    let fill = 0;
    let sent = 0;
    const flush = (): void => {
      if (fill === 0) return;
      port.postMessage(batch.subarray(0, fill * size), [batch.buffer]);
      sent += fill;
      batch = new Uint8Array(BATCH * size);
      fill = 0;
    };
    return {
      write(record) {
        if (sent + fill - Atomics.load(control, ack) >= init.window) return false;
        batch.set(record, fill * size);
        if (++fill === BATCH) flush();
        return true;
      },
      flush,
    };
  },
};

/** postMessage with 64 records per transferred typed array. */
export const postMessageBatched: Contender = {
  name: 'postMessage batched',
  validate(config) {
    if (config.wakeup !== 'adaptive' || config.consume !== 'poll') {
      return 'postMessage has no wakeup control or consumer loop of its own: every message is an event';
    }
    if (Math.floor(config.ringBytes / ringStride(config.recordSize)) < 2 * BATCH) {
      return `the ring's worth of records must hold two batches of ${BATCH}`;
    }
    return null;
  },
  run: (config) =>
    measure(config, batchedProducer, null, (session) =>
      new Promise<void>((resolve) => {
        const { verifier } = session;
        const step = config.recordSize >> 2;
        session.workers.forEach((worker, index) => {
          worker.on('message', (data: Uint8Array) => {
            const words = new Uint32Array(data.buffer, data.byteOffset, data.byteLength >> 2);
            for (let w = 0; w < words.length; w += step) session.record(words, w);
            session.ack(index, words.length / step);
            session.tick();
            if (verifier.done) resolve();
          });
        });
      })),
};
