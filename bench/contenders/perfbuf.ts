// Per-producer buffers (one single-producer ring per producer worker, no
// lock) read in one global order or per producer, and sharded rings (the
// producers spread over two locked rings) read by one FairConsumer. Each
// contender gets the same buffering in all as the single ring
// (config.ringBytes), split evenly between its rings.

import { FairConsumer, PerfBuffer, PerfBufferConsumer, ShardedRings, type PerfBufferHandle, type ShardedRingsHandle } from 'wasm-ringbuf';
import type { BenchConfig, Contender, RunResult } from '../config.js';
import { consumeLoop, measure, rawWriter, type ProducerKind } from '../harness.js';

/** The ring size of each of `rings` rings sharing `total` bytes: a power of two, at least 4096. */
function share(total: number, rings: number): number {
  return Math.max(4096, 2 ** Math.floor(Math.log2(total / rings)));
}

/** The producer side of the perf-buffer contenders: slot = producer index. */
export const perfbufProducer: ProducerKind = {
  kind: 'perfbuf',
  create: async (init) => ({ write: rawWriter(await PerfBuffer.attach(init.extra as PerfBufferHandle, init.index)) }),
};

/** The producer side of the sharded contender: ring = index % K. */
export const shardProducer: ProducerKind = {
  kind: 'shard',
  create: async (init) => ({ write: rawWriter(await ShardedRings.attach(init.extra as ShardedRingsHandle, init.index)) }),
};

function validate(config: BenchConfig): string | null {
  return config.recordSize > share(config.ringBytes, config.producers) - 24 ? 'the record does not fit one producer\'s share of the buffering' : null;
}

function perfbuf(name: string, ordered: boolean, stamps: boolean): Contender {
  return {
    name,
    validate,
    async run(config): Promise<RunResult> {
      const pb = await PerfBuffer.create({ producers: config.producers, size: share(config.ringBytes, config.producers), ordered: stamps });
      const words = pb.rings.map((r) => new Uint32Array(r.memory.buffer));
      let last = -1;
      let disorder: string | null = null;
      const result = await measure(config, perfbufProducer, pb.handle, (session) => {
        const consumer = new PerfBufferConsumer(pb, {
          ordered,
          sampleRaw: (_bytes, offset, _length, producer, stamp) => {
            session.record(words[producer]!, offset >> 2);
            if (ordered) {
              if (stamp <= last) disorder ??= `stamp ${stamp} delivered after ${last}`;
              last = stamp;
            }
          },
        });
        return consumeLoop(consumer, config, session);
      });
      if (disorder !== null) throw new Error(disorder);
      let dropped = 0;
      let wakeups = 0;
      for (const r of pb.rings) {
        dropped += r.stats().dropped;
        wakeups += r.stats().wakeups;
      }
      if (dropped !== result.drops) throw new Error(`the rings counted ${dropped} refused reservations, the producers ${result.drops}`);
      return { ...result, wakeups, lockWaits: 0 };
    },
  };
}

/** Per-producer buffers, merged into one global order by stamp. */
export const perfbufOrdered = perfbuf('perfbuf ordered', true, true);
/** Per-producer buffers without stamps, read per producer (round-robin): the cheap path. */
export const perfbufUnordered = perfbuf('perfbuf unordered', false, false);

/** Producers spread over K = min(producers, 2) locked rings, one FairConsumer. */
export const sharded: Contender = {
  name: 'sharded rings K=2',
  validate,
  async run(config): Promise<RunResult> {
    const shards = await ShardedRings.create({ rings: Math.min(2, config.producers), size: share(config.ringBytes, Math.min(2, config.producers)) });
    const result = await measure(config, shardProducer, shards.handle, (session) => {
      const consumer = new FairConsumer();
      for (const ring of shards.rings) {
        const words = new Uint32Array(ring.memory.buffer);
        consumer.addRaw(ring, (_bytes, offset) => session.record(words, offset >> 2));
      }
      return consumeLoop(consumer, config, session);
    });
    let wakeups = 0;
    let lockWaits = 0;
    for (const r of shards.rings) {
      wakeups += r.stats().wakeups;
      lockWaits += r.stats().lockWaits;
    }
    return { ...result, wakeups, lockWaits };
  },
};
