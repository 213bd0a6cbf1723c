// Entry of every worker the benchmarks start (spawn() in harness.ts): runs
// the role named in workerData.role. 'producer' builds the contender's
// producer side named by workerData.kind and runs the shared producer loop.

import { workerData } from 'node:worker_threads';
import { producerKinds } from './contenders/index.js';
import { allocProducer } from './extras/alloc.js';
import { burstProducer } from './extras/burst.js';
import { contentionProducer } from './extras/contention.js';
import { latencyConsumer, latencyProducer } from './extras/latency.js';
import { runProducer, type ProducerInit } from './harness.js';
import { soloProducer } from './solo.js';

async function producer(init: ProducerInit): Promise<void> {
  const kind = producerKinds.find((p) => p.kind === init.kind);
  if (kind === undefined) throw new Error(`unknown producer kind ${JSON.stringify(init.kind)}`);
  runProducer(init, await kind.create(init));
}

const roles: Record<string, (data: never) => Promise<void> | void> = {
  producer,
  'lat-producer': latencyProducer,
  'lat-consumer': latencyConsumer,
  'alloc-producer': allocProducer,
  'burst-producer': burstProducer,
  'solo-producer': soloProducer,
  'contention-producer': contentionProducer,
};

const data = workerData as { role: string };
const role = roles[data.role];
if (role === undefined) throw new Error(`unknown worker role ${JSON.stringify(data.role)}`);
await role(data as never);
