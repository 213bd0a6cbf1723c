// Entry of every producer worker: builds the contender's producer side named
// by workerData.kind and runs the shared producer loop (harness.ts).

import { workerData } from 'node:worker_threads';
import { producerKinds } from './contenders/index.js';
import { runProducer, type ProducerInit } from './harness.js';

const init = workerData as ProducerInit;
const producer = producerKinds.find((p) => p.kind === init.kind);
if (producer === undefined) throw new Error(`unknown producer kind ${JSON.stringify(init.kind)}`);
runProducer(init, await producer.create(init));
