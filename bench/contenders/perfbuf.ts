// Per-producer buffers (PerfBuffer): one single-producer ring per producer
// worker, no lock, each record stamped, and a PerfBufferConsumer that merges
// the rings back into one order by stamp (checked here, record by record).
// The same buffering in all as the single ring (config.ringBytes), split
// evenly between the rings; the same calls: reserve → data.set → submit.

import { BPF_RB_CONS_POS, PerfBuffer, PerfBufferConsumer, type PerfBufferHandle } from 'wasm-ringbuf';
import { commonRefusal, ringLoop, ringStride, type BenchConfig, type Contender } from '../harness.js';

/** Bytes of each stamped record's hidden prefix (the stamp). */
const PREFIX = 8;

/** The ring size of each producer's share of `config.ringBytes`: a power of two, at least 4096. */
function share(config: BenchConfig): number {
  return Math.max(4096, 2 ** Math.floor(Math.log2(config.ringBytes / config.producers)));
}

interface State {
  pb: PerfBuffer;
  stride: number;
  /** The first stamp seen out of order, or null. */
  disorder: string | null;
}

export const perfbuf: Contender<State> = {
  name: 'PerfBuffer',
  validate: (config) =>
    commonRefusal(config) ??
    (config.recordSize + PREFIX > share(config) - 16
      ? "the record does not fit one producer's share of the buffering"
      : null),
  async setup(config) {
    const pb = await PerfBuffer.create({ producers: config.producers, size: share(config), ordered: true });
    return { state: { pb, stride: ringStride(config.recordSize + PREFIX), disorder: null }, shared: pb.handle };
  },
  async producer(init) {
    const p = await PerfBuffer.attach(init.shared as PerfBufferHandle, init.index);
    return {
      write(record, flags) {
        const r = p.reserve(record.length);
        if (r === null) return false;
        r.data.set(record);
        r.submit(flags);
        return true;
      },
    };
  },
  consumer(state, config, session) {
    const words = state.pb.rings.map((r) => new Uint32Array(r.memory.buffer));
    let last = -1;
    const consumer = new PerfBufferConsumer(state.pb, {
      sample: (data, producer, stamp) => {
        session.record(words[producer]!, data.byteOffset >> 2);
        if (stamp <= last) state.disorder ??= `stamp ${stamp} delivered after ${last}`;
        last = stamp;
      },
    });
    return ringLoop(consumer, config, session);
  },
  measure(state, session) {
    if (state.disorder !== null) throw new Error(`PerfBuffer: ${state.disorder}`);
    let records = -session.verifier.producers;
    let drops = 0;
    let wakeups = 0;
    for (const r of state.pb.rings) {
      records += r.query(BPF_RB_CONS_POS) / state.stride;
      drops += r.stats().dropped;
      wakeups += r.stats().wakeups;
    }
    return { records, drops, wakeups };
  },
  report: (_, config) =>
    `${config.producers} ring${config.producers > 1 ? 's' : ''} of ${share(config) / 1024} KiB, merged by stamp`,
};
