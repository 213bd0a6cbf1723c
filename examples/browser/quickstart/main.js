// main.js: one consumer on the page's main thread, two producers in module Web Workers.
import { RingBuffer, RingBufferConsumer } from 'wasm-ringbuf';

const log = (line) => (document.querySelector('#log').textContent += `${line}\n`);
const rb = await RingBuffer.create({ size: 1 << 20 }); // rejects (ERR_RINGBUF_NOT_ISOLATED) without the headers
const decoder = new TextDecoder();
let received = 0;
const consumer = new RingBufferConsumer(rb, (data) => {
  // `data` views the ring's shared memory, valid during this call only; browsers' TextDecoder
  // refuses shared views, so decode a copy
  if (received++ < 3) log(decoder.decode(data.slice()));
});

let running = 2;
for (const name of ['alpha', 'beta']) {
  const worker = new Worker(new URL('./producer.js', import.meta.url), { type: 'module' });
  worker.onmessage = () => running--; // 'done'
  worker.postMessage({ handle: rb.handle, name });
}
while (running > 0) await consumer.poll(100); // sleeps in Atomics.waitAsync: the page never blocks
consumer.consume(); // anything committed after the last poll

log(`received ${received} records; dropped ${rb.stats().dropped}`);
