// Every contender, in report order, and the producer sides the worker entry
// can build.

import type { Contender } from '../config.js';
import type { ProducerKind } from '../harness.js';
import { bare, bareProducer } from './bare.js';
import { jsTwin, jsTwinProducer } from './js-twin.js';
import { perfbufOrdered, perfbufProducer, perfbufUnordered, shardProducer, sharded } from './perfbuf.js';
import { batchedProducer, postMessage, postMessageBatched, postMessageProducer } from './post-message.js';
import { ringbufjs, ringbufjsProducer } from './ringbufjs.js';
import { wasmOutput, wasmRawCas, wasmRawLock, wasmReserve, wasmRingProducer } from './wasm-ring.js';

/** The contenders of every scenario; postMessage is the baseline of the ratios. */
export const contenders: readonly Contender[] = [
  wasmRawLock, wasmRawCas, wasmReserve, wasmOutput, jsTwin, perfbufOrdered, perfbufUnordered, sharded, postMessage, postMessageBatched, ringbufjs, bare,
];

/** The name of the contender every ratio is taken against. */
export const BASELINE = postMessage.name;

/** Producer sides by kind, for the worker entry (bench/worker.ts). */
export const producerKinds: readonly ProducerKind[] = [
  wasmRingProducer, jsTwinProducer, perfbufProducer, shardProducer, postMessageProducer, batchedProducer, ringbufjsProducer, bareProducer,
];
