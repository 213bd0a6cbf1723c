// The plain-JavaScript twin of the protocol (bench/js-twin.ts) as a contender
// of the main matrix: the same producer loop and verification as
// wasm-ring.ts, over Int32Array/Atomics instead of the wasm core.

import { ringFits, type Contender, type RunResult } from '../config.js';
import { consumeLoop, measure, rawWriter, type ProducerKind } from '../harness.js';
import { JsRing, JsRingConsumer, type JsRingHandle } from '../js-twin.js';

/** The producer side: reserveRaw, copy, submitRaw on the twin. */
export const jsTwinProducer: ProducerKind = {
  kind: 'js-twin',
  create: (init) => ({ write: rawWriter(JsRing.attach(init.extra as JsRingHandle)) }),
};

/** The plain-JavaScript twin of the protocol, zero-allocation path, producer lock. */
export const jsTwin: Contender = {
  name: 'js-twin raw lock',
  validate: (config) => (config.consume === 'batch' ? 'the twin has no consumeN()' : ringFits(config)),
  async run(config): Promise<RunResult> {
    const ring = JsRing.create(config.ringBytes);
    const words = new Uint32Array(ring.sab);
    const result = await measure(config, jsTwinProducer, ring.handle, (session) =>
      consumeLoop(new JsRingConsumer(ring, (_bytes, offset) => session.record(words, offset >> 2)), config, session));
    const stats = ring.stats();
    if (stats.dropped !== result.drops) throw new Error(`the twin counted ${stats.dropped} refused reservations, its producers ${result.drops}`);
    return { ...result, wakeups: stats.wakeups, lockWaits: stats.lockWaits };
  },
};
