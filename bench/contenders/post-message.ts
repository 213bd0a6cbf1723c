// postMessage, one message per record (what most code does today), and 64
// records packed in one Uint8Array whose buffer is transferred (what a careful
// user writes). A producer keeps at most as many records in flight as the
// ring would hold (the consumer acknowledges through the control block), so
// both get the same buffering as the ring; a record refused for that reason
// counts as a drop and is retried.

import { parentPort } from 'node:worker_threads';
import { ringStride, type BenchConfig, type Contender } from '../config.js';
import { ackWord, measure, type ProducerKind, type Session } from '../harness.js';

/** Records per message of the batched contender. */
const BATCH = 64;

/**
 * The producer side: packs up to `batch` records per message (transferred
 * when full and on flush()); `batch` 1 posts each record as its own message
 * (structured clone).
 */
function producer(kind: string, batch: number): ProducerKind {
  return {
    kind,
    create(init) {
      const port = parentPort!;
      const control = new Int32Array(init.control);
      const ack = ackWord(init.index);
      const size = init.recordSize;
      let pack = new Uint8Array(batch * size);
      let fill = 0;
      let sent = 0;
      const flush = (): void => {
        if (fill === 0) return;
        port.postMessage(pack.subarray(0, fill * size), [pack.buffer]);
        sent += fill;
        pack = new Uint8Array(batch * size);
        fill = 0;
      };
      return {
        write(record) {
          if (sent + fill - Atomics.load(control, ack) >= init.window) return false;
          if (batch === 1) {
            port.postMessage(record);
            sent++;
            return true;
          }
          pack.set(record, fill * size);
          if (++fill === batch) flush();
          return true;
        },
        flush,
      };
    },
  };
}

export const postMessageProducer = producer('post-message', 1);
export const batchedProducer = producer('post-message-batched', BATCH);

/** Takes every message's records until every END has arrived. */
function receive(config: BenchConfig, session: Session): Promise<void> {
  const step = config.recordSize >> 2;
  return new Promise<void>((resolve) => {
    session.workers.forEach((worker, index) => {
      worker.on('message', (data: Uint8Array) => {
        const words = new Uint32Array(data.buffer, data.byteOffset, data.byteLength >> 2);
        for (let w = 0; w < words.length; w += step) session.record(words, w);
        session.ack(index, words.length / step);
        session.tick();
        if (session.verifier.done) resolve();
      });
    });
  });
}

function validate(config: BenchConfig): string | null {
  return config.wakeup !== 'adaptive' || config.consume !== 'poll'
    ? 'postMessage has no wakeup control or consumer loop of its own: every message is an event'
    : null;
}

/** postMessage with one record per message; the baseline of every ratio in the report. */
export const postMessage: Contender = {
  name: 'postMessage',
  validate,
  run: (config) => measure(config, postMessageProducer, null, (session) => receive(config, session)),
};

/** postMessage with 64 records per transferred typed array. */
export const postMessageBatched: Contender = {
  name: 'postMessage batched',
  validate: (config) =>
    validate(config) ??
    (Math.floor(config.ringBytes / ringStride(config.recordSize)) < 2 * BATCH ? `the ring's worth of records must hold two batches of ${BATCH}` : null),
  run: (config) => measure(config, batchedProducer, null, (session) => receive(config, session)),
};
