// json-producer.mjs: writes 1000 JSON records, waiting for room whenever the ring is full.
import { workerData } from 'node:worker_threads';
import { RingBuffer, writeJSON } from 'wasm-ringbuf';

const rb = await RingBuffer.attach(workerData.handle);
for (let seq = 0; seq < 1000; seq++) writeJSON(rb, { worker: workerData.id, seq, msg: 'héllo' }, 0, -1); // -1: wait for room
