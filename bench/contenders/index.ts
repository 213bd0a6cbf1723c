// Every contender, in report order, and the producer sides the worker entry
// can build.

import type { Contender } from '../config.js';
import type { ProducerKind } from '../harness.js';
import { postMessage, postMessageProducer } from './post-message.js';
import { batchedProducer, postMessageBatched } from './post-message-batched.js';
import { ringbufjs, ringbufjsProducer } from './ringbufjs.js';
import { wasmOutput, wasmRawCas, wasmRawLock, wasmReserve, wasmRingProducer } from './wasm-ring.js';

/** The contenders of every scenario; postMessage is the baseline of the ratios. */
export const contenders: readonly Contender[] = [
  wasmRawLock, wasmRawCas, wasmReserve, wasmOutput, postMessage, postMessageBatched, ringbufjs,
];

/** The name of the contender every ratio is taken against. */
export const BASELINE = postMessage.name;

/** Producer sides by kind, for producer.worker.ts. */
export const producerKinds: readonly ProducerKind[] = [
  wasmRingProducer, postMessageProducer, batchedProducer, ringbufjsProducer,
];
