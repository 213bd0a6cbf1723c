// Every contender, in report order, and the producer sides the worker entry
// can build.

import type { Contender } from '../config.js';
import type { ProducerKind } from '../harness.js';
import { bare, bareProducer } from './bare.js';
import { jsTwin, jsTwinProducer } from './js-twin.js';
import { perfbufOrdered, perfbufProducer, perfbufUnordered, shardProducer, sharded } from './perfbuf.js';
import { batchedProducer, postMessage, postMessageBatched, postMessageProducer } from './post-message.js';
import { ringbufjs, ringbufjsProducer } from './ringbufjs.js';
import { solo } from '../solo.js';
import { wasmOutput, wasmRawCas, wasmRawLock, wasmReserve, wasmRingProducer } from './wasm-ring.js';

/** The raw path's calls on one thread alone (bench/solo.ts): the single-thread rate of the cross-thread ratio. */
export const wasmRawOneThread = solo('wasm-ringbuf raw, one thread', 'raw');

/** The contenders of every scenario; postMessage is the baseline of the ratios. */
export const contenders: readonly Contender[] = [
  wasmRawLock, wasmRawOneThread, wasmRawCas, wasmReserve, wasmOutput, jsTwin, perfbufOrdered, perfbufUnordered, sharded, postMessage, postMessageBatched, ringbufjs, bare,
];

/** The name of the contender every ratio is taken against. */
export const BASELINE = postMessage.name;

/** Producer sides by kind, for the worker entry (bench/worker.ts). */
export const producerKinds: readonly ProducerKind[] = [
  wasmRingProducer, jsTwinProducer, perfbufProducer, shardProducer, postMessageProducer, batchedProducer, ringbufjsProducer, bareProducer,
];
