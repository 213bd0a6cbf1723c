// stream.mjs: the ring as a WHATWG ReadableStream, piped by Node into a file as NDJSON.
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Worker } from 'node:worker_threads';
import { RingBuffer, createReadableStream, readText } from 'wasm-ringbuf';

const rb = await RingBuffer.create({ size: 1 << 16 });
const worker = new Worker(new URL('./json-producer.mjs', import.meta.url), {
  workerData: { handle: rb.handle, id: 0 },
});
const lines = createReadableStream(rb, { map: (data) => `${readText(data)}\n`, until: once(worker, 'exit') });
await pipeline(Readable.fromWeb(lines), createWriteStream('events.ndjson')); // file backpressure reaches the ring
console.log('wrote events.ndjson');
