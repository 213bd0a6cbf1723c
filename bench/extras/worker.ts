// Entry of every worker the extra measurements start: runs the role named in
// workerData.role (see spawn() in common.ts).

import { workerData } from 'node:worker_threads';
import { allocProducer } from './alloc.js';
import { b2bProducer } from './b2b.js';
import { burstProducer } from './burst.js';
import { twinProducer } from './twin.js';
import { latencyConsumer, latencyProducer } from './latency.js';

const roles: Record<string, (data: never) => Promise<void> | void> = {
  'lat-producer': latencyProducer,
  'lat-consumer': latencyConsumer,
  'alloc-producer': allocProducer,
  'burst-producer': burstProducer,
  'tp-producer': twinProducer,
  'b2b-producer': b2bProducer,
};

const data = workerData as { role: string };
const role = roles[data.role];
if (role === undefined) throw new Error(`unknown extras worker role ${JSON.stringify(data.role)}`);
await role(data as never);
