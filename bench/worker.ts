// Entry of every producer worker (harness.ts keeps them between runs): for
// each run it is sent, builds the producer side of the contender named in
// the run's ProducerInit, runs the harness's producer loop, and says 'done'.
// An error ends the worker, which the harness sees.

import { parentPort } from 'node:worker_threads';
import { contenders } from './contenders/index.js';
import { runProducer, type ProducerInit } from './harness.js';

parentPort!.on('message', async (init: ProducerInit) => {
  const contender = contenders.find((c) => c.name === init.contender);
  if (contender === undefined) throw new Error(`unknown contender ${JSON.stringify(init.contender)}`);
  await runProducer(init, await contender.producer(init));
  parentPort!.postMessage('done');
});
