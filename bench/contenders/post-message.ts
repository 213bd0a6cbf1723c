// postMessage, one message per record (what most code does today), and 64
// records packed in one Uint8Array whose buffer is transferred (what a
// careful user writes; paced, it also sends what it holds at the end of each
// 1 ms tick). A producer keeps at most as many records in flight as the ring
// would hold (the consumer acknowledges through the control block), so both
// get the same buffering as the ring; a record refused for that reason
// counts as a drop. Back-to-back, the consumer asks by postMessage too: a
// ping-pong. Each producer posts on its own MessagePort to the main thread
// (what parentPort is). Each message is one 'message' event on the
// consumer's thread: counted as its wakeups.

import { ackWord, commonRefusal, type BenchConfig, type Contender } from '../harness.js';

/** Records per message of the batched contender. */
const BATCH = 64;

interface State {
  records: number;
  messages: number;
}

function postMessageContender(name: string, batch: number): Contender<State> {
  return {
    name,
    requestByMessage: true,
    validate(config) {
      const common = commonRefusal(config);
      if (common !== null) return common;
      if (config.wakeup !== 'adaptive')
        return "postMessage has no wakeup flags: every message is an event on the consumer's thread";
      return Math.floor(config.ringBytes / config.recordSize) < 2 * batch
        ? `a ring's worth of records must hold two messages of ${batch}`
        : null;
    },
    setup: async () => ({ state: { records: 0, messages: 0 }, shared: null }),
    producer(init) {
      const port = init.port!;
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
            port.postMessage(record); // a structured clone of the record
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
    consumer(state, config: BenchConfig, session) {
      const step = config.recordSize >> 2;
      return new Promise<void>((resolve) => {
        session.ports.forEach((port, index) => {
          port.on('message', (data: Uint8Array) => {
            const words = new Uint32Array(data.buffer, data.byteOffset, data.byteLength >> 2);
            for (let w = 0; w < words.length; w += step) session.record(words, w);
            state.messages++;
            state.records += words.length / step;
            session.ack(index, words.length / step);
            session.tick();
            if (session.done) resolve();
          });
        });
      });
    },
    measure: (state, session) => ({
      records: state.records - session.verifier.producers,
      drops: session.producerDrops(),
      wakeups: state.messages,
    }),
    report: (r) => `${(r.records / r.wakeups!).toFixed(1)} records per message`,
  };
}

export const postMessage = postMessageContender('postMessage', 1);
export const postMessageBatched = postMessageContender('postMessage ×64', BATCH);
