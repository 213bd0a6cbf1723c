// One application worker: logs `lines` structured lines, either into the
// shared ring (via: 'ring', logger.mjs) or through pino's usual transport path
// (via: 'pino': pino.transport({ target: 'pino/file' }), a thread-stream
// worker of its own writing `<file>.<worker>`). Both log the same fields. It
// reports 'ready', waits at the start barrier, logs, reports 'done'.
import { once } from 'node:events';
import { parentPort, workerData } from 'node:worker_threads';
import { RingBuffer } from 'wasm-ringbuf';
import { ringLogger } from './logger.mjs';

const { via, handle, file, worker, lines, wait = true, start } = workerData;
const gate = new Int32Array(start);

/** What each line carries beyond pino's own fields: a request, as a web server would log it. */
const fields = (seq) => ({
  worker,
  seq,
  req: { method: seq % 5 === 0 ? 'POST' : 'GET', url: `/api/items/${seq % 977}`, status: seq % 41 === 0 ? 500 : 200 },
  ms: (seq % 1000) / 10,
});
const message = (seq) => `request ${seq} handled by worker ${worker}`;

let logger;
let finish;
if (via === 'ring') {
  const rb = await RingBuffer.attach(handle);
  logger = ringLogger(rb, { wait });
  finish = async () => rb.close();
} else {
  const { default: pino } = await import('pino');
  const transport = pino.transport({ target: 'pino/file', options: { destination: `${file}.${worker}` } });
  // thread-stream unrefs its worker: hold this thread's event loop open while waiting on it
  const held = (promise) => {
    const keep = setInterval(() => {}, 1000);
    return promise.finally(() => clearInterval(keep));
  };
  await held(once(transport, 'ready'));
  logger = pino(transport);
  // end() flushes what thread-stream holds and closes its worker, which closes the file
  finish = () => {
    transport.end();
    return held(once(transport, 'close'));
  };
}

parentPort.postMessage({ type: 'ready' });
Atomics.wait(gate, 0, 0); // the start barrier: every worker starts logging together
for (let seq = 0; seq < lines; seq++) logger.info(fields(seq), message(seq));
await finish();
parentPort.postMessage({ type: 'done', dropped: logger.dropped ?? 0 });
