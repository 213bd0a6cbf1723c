// The plain-JavaScript twin of the protocol (bench/js-twin.ts) as a contender
// of the main matrix: the same producer loop and verification as
// wasm-ring.ts, over Int32Array/Atomics instead of the wasm core.
// To enable it, list `jsTwin` in `contenders` and `jsTwinProducer` in
// `producerKinds` (bench/contenders/index.ts).

import type { BenchConfig, Contender, RunResult, Wakeup } from '../config.js';
import { DRAIN_SLEEP_MS, END, RecordTemplate, measure, type ProducerKind, type Session } from '../harness.js';
import { sleep } from '../util.js';
import { JsRing, JsRingConsumer, type JsRingHandle } from '../js-twin.js';

const NO_WAKEUP = 1; // BPF_RB_NO_WAKEUP
const FORCE_WAKEUP = 2; // BPF_RB_FORCE_WAKEUP

function flagsFor(wakeup: Wakeup): (seq: number) => number {
  if (wakeup === 'adaptive') return () => 0;
  if (wakeup === 'none') return () => NO_WAKEUP;
  return (seq) => (seq % wakeup === 0 ? FORCE_WAKEUP : NO_WAKEUP);
}

/** The producer side: reserveRaw, copy, submitRaw on the twin. */
export const jsTwinProducer: ProducerKind = {
  kind: 'js-twin',
  create(init) {
    const ring = JsRing.attach(init.extra as JsRingHandle);
    const { bytes } = ring;
    const record = new RecordTemplate(init.recordSize, init.index);
    const size = init.recordSize;
    const emit = (seq: number, flags: number): boolean => {
      const off = ring.reserveRaw(size);
      if (off === 0) return false;
      bytes.set(record.stamp(seq), off);
      ring.submitRaw(off, flags);
      return true;
    };
    const flags = flagsFor(init.wakeup);
    return { write: (seq) => emit(seq, flags(seq)), end: () => emit(END, FORCE_WAKEUP) };
  },
};

async function consume(ring: JsRing, config: BenchConfig, session: Session): Promise<void> {
  const { verifier } = session;
  const words = new Uint32Array(ring.sab);
  const consumer = new JsRingConsumer(ring, (_bytes, offset) => verifier.record(words[offset >> 2]!, words[(offset >> 2) + 1]!));
  while (!verifier.done) {
    if (config.consume === 'drain') {
      if (consumer.consume() === 0) await sleep(DRAIN_SLEEP_MS);
    } else {
      await consumer.poll(-1);
    }
    session.tick();
  }
}

/** The plain-JavaScript twin of the protocol, zero-allocation path, producer lock. */
export const jsTwin: Contender = {
  name: 'js-twin raw lock',
  validate(config) {
    if (config.consume === 'batch') return 'the twin has no consumeN()';
    if (config.recordSize > config.ringBytes - 16) return `a ${config.ringBytes}-byte ring holds payloads of up to ${config.ringBytes - 16} bytes`;
    return null;
  },
  async run(config): Promise<RunResult> {
    const ring = JsRing.create(config.ringBytes);
    const result = await measure(config, jsTwinProducer, ring.handle, (session) => consume(ring, config, session));
    const stats = ring.stats();
    if (stats.dropped !== result.drops) throw new Error(`the twin counted ${stats.dropped} refused reservations, its producers ${result.drops}`);
    return { ...result, wakeups: stats.wakeups, lockWaits: stats.lockWaits };
  },
};
