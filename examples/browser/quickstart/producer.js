// producer.js: a module Web Worker; attaches to the ring from its handle and writes 1000 records.
import { RingBuffer } from 'wasm-ringbuf';

self.onmessage = async ({ data: { handle, name } }) => {
  const rb = await RingBuffer.attach(handle);
  const encoder = new TextEncoder();
  for (let i = 0; i < 1000; i++) {
    const bytes = encoder.encode(`${name} says hello #${i}`);
    const r = rb.reserve(bytes.length); // null when the ring is full: counted in rb.stats().dropped
    if (r === null) continue;
    r.data.set(bytes); // into shared memory
    r.submit(); // adaptive wakeup: wakes the page only if it has caught up
  }
  self.postMessage('done');
};
