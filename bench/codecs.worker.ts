// The producer of bench/codecs.ts: the same log objects, sent one of three
// ways. Waits for 'go', produces `count` objects, posts 'done'.
//   json      writeJSON(rb, obj, 0, -1) into the ring (waits for room: nothing is lost)
//   text      writeText(rb, line, 0, -1): the object's line, already a string
//   post      postMessage(obj): a structured clone per object
//   post-text postMessage(line)
//   post-64   postMessage of 64 objects at a time (one clone of an array)
import { parentPort, workerData } from 'node:worker_threads';
import { RingBuffer, writeJSON, writeText } from 'wasm-ringbuf';
import { logObject, logLine } from './codecs-data.js';

const { handle, count, via } = workerData as {
  handle: import('wasm-ringbuf').RingBufferHandle;
  count: number;
  via: string;
};
const port = parentPort!;
const rb = handle === null ? null : await RingBuffer.attach(handle);

port.once('message', () => {
  if (via === 'json') for (let i = 0; i < count; i++) writeJSON(rb!, logObject(i), 0, -1);
  else if (via === 'text') for (let i = 0; i < count; i++) writeText(rb!, logLine(i), 0, -1);
  else if (via === 'post') for (let i = 0; i < count; i++) port.postMessage(logObject(i));
  else if (via === 'post-text') for (let i = 0; i < count; i++) port.postMessage(logLine(i));
  else if (via === 'post-64') {
    for (let i = 0; i < count; i += 64) {
      const batch = [];
      for (let j = i; j < Math.min(count, i + 64); j++) batch.push(logObject(j));
      port.postMessage(batch);
    }
  }
  port.postMessage('done');
});
port.postMessage('ready');
