// producer.js: a module worker; it imports the same single file (a module worker sees no import map)
import { RingBuffer, writeText } from './wasm-ringbuf.bundle.js';

self.onmessage = async ({ data: { handle, name } }) => {
  const rb = await RingBuffer.attach(handle);
  for (let i = 0; i < 1000; i++) writeText(rb, `${name} says hello #${i}`, 0, -1); // -1: wait for room (a worker may)
  self.postMessage('done');
};
