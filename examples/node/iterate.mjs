// iterate.mjs: `for await` over the records of two worker producers, parsed as JSON.
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { RingBuffer, readJSON, readRecords } from 'wasm-ringbuf';

const rb = await RingBuffer.create({ size: 1 << 16 });
const exits = [0, 1].map((id) =>
  once(new Worker(new URL('./json-producer.mjs', import.meta.url), { workerData: { handle: rb.handle, id } }), 'exit'),
);

let count = 0;
// until: once both have exited, read what they committed, then end (and give the ring up)
for await (const event of readRecords(rb, { map: readJSON, until: Promise.all(exits) })) {
  if (count++ < 2) console.log(event);
}
console.log(`${count} events; dropped ${rb.stats().dropped}`);
