// postMessage, one message per record: what most code does today. A producer
// keeps at most as many records in flight as the ring would hold (the
// consumer acknowledges through the control block), so both get the same
// buffering; a record refused for that reason counts as a drop and is retried.

import { parentPort } from 'node:worker_threads';
import type { Contender } from '../config.js';
import { ackWord, measure, type ProducerKind } from '../harness.js';

/** The producer side: posts each record as its own message (structured clone). */
export const postMessageProducer: ProducerKind = {
  kind: 'post-message',
  create(init) {
    const port = parentPort!;
    const control = new Int32Array(init.control);
    const ack = ackWord(init.index);
    let sent = 0;
    return {
      write(record) {
        if (sent - Atomics.load(control, ack) >= init.window) return false;
        port.postMessage(record);
        sent++;
        return true;
      },
    };
  },
};

/** postMessage with one record per message; the baseline of every ratio in the report. */
export const postMessage: Contender = {
  name: 'postMessage',
  validate: (config) =>
    config.wakeup !== 'adaptive' || config.consume !== 'poll'
      ? 'postMessage has no wakeup control or consumer loop of its own: every message is an event'
      : null,
  run: (config) =>
    measure(config, postMessageProducer, null, (session) =>
      new Promise<void>((resolve) => {
        const { verifier } = session;
        session.workers.forEach((worker, index) => {
          worker.on('message', (data: Uint8Array) => {
            const words = new Uint32Array(data.buffer, data.byteOffset, 2);
            session.record(words, 0);
            session.ack(index, 1);
            session.tick();
            if (verifier.done) resolve();
          });
        });
      })),
};
