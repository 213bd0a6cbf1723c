// writable.mjs: a WritableStream into the ring; its backpressure is the ring's room.
import { RingBuffer, RingBufferConsumer, createWritableStream, readText } from 'wasm-ringbuf';

const rb = await RingBuffer.create({ size: 4096 }); // small on purpose: the writer must wait for the reader
let received = 0;
const consumer = new RingBufferConsumer(rb, (data) => void (readText(data).startsWith('line ') && received++));
const reading = (async () => {
  while (received < 10_000) await consumer.poll(100);
})();

let i = 0;
const lines = new ReadableStream({ pull: (c) => (i < 10_000 ? c.enqueue(`line ${i++}`) : c.close()) });
await lines.pipeTo(createWritableStream(rb)); // each string becomes a UTF-8 record; a write waits while the ring is full
await reading;
const { dropped, roomWaits } = rb.stats();
console.log(
  `received ${received}; dropped ${dropped}; the writer waited for room ${roomWaits > 0 ? 'now and then' : 'never'}`,
);
