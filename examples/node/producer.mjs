// producer.mjs: attaches to the ring from its handle and writes 1000 records.
import { workerData } from 'node:worker_threads';
import { RingBuffer } from 'wasm-ringbuf';

const rb = await RingBuffer.attach(workerData.handle);
const encoder = new TextEncoder();
for (let i = 0; i < 1000; i++) {
  const bytes = encoder.encode(`${workerData.name} says hello #${i}`);
  const r = rb.reserve(bytes.length); // null when the ring is full: counted in rb.stats().dropped
  if (r === null) continue;
  r.data.set(bytes); // into shared memory: the consumer reads it there
  r.submit(); // adaptive wakeup: wakes the consumer only if it has caught up
}
