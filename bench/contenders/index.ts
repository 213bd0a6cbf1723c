// Every contender, in report order; the worker entry (bench/worker.ts) finds
// a producer's by name.

import type { Contender } from '../harness.js';
import { perfbuf } from './perfbuf.js';
import { postMessage, postMessageBatched } from './post-message.js';
import { ring, ringOutput, ringSingle } from './ring.js';
import { ringbufjs } from './ringbufjs.js';

export { perfbuf, postMessage, postMessageBatched, ring, ringOutput, ringSingle, ringbufjs };

export const contenders: readonly Contender[] = [
  ring,
  ringOutput,
  ringSingle,
  postMessage,
  postMessageBatched,
  ringbufjs,
  perfbuf,
];

/** The contender every ratio in the tables is taken against. */
export const BASELINE = postMessage;
