// main.mjs: one consumer on the main thread, two producers in worker threads.
import { Worker } from 'node:worker_threads';
import { RingBuffer, RingBufferConsumer } from 'wasm-ringbuf';

const rb = await RingBuffer.create({ size: 1 << 20 }); // 1 MiB of records
const decoder = new TextDecoder();
let received = 0;
const consumer = new RingBufferConsumer(rb, (data, lost) => {
  // `data` is a view into the ring, valid during this call only
  if (received < 3 || lost > 0) console.log(decoder.decode(data), lost ? `(${lost} lost before)` : '');
  received++;
});

let running = 2;
for (const name of ['alpha', 'beta']) {
  const worker = new Worker(new URL('./producer.mjs', import.meta.url), { workerData: { handle: rb.handle, name } });
  worker.once('exit', () => running--);
}
while (running > 0) await consumer.poll(100); // sleeps until a producer wakes it (or 100 ms pass)
consumer.consume(); // anything committed after the last poll

console.log(`received ${received} records; dropped ${rb.stats().dropped}`);
