// wasm-ringbuf itself: one shared ring, producers in workers, the consumer on
// the main thread. The contenders differ in the producer API they call and
// in how producers claim space (the producer lock or a compare-and-swap).

import {
  BPF_RB_FORCE_WAKEUP, BPF_RB_NO_WAKEUP, RingBuffer, RingBufferConsumer, type RingBufferHandle,
} from 'wasm-ringbuf';
import type { BenchConfig, Contender, RunResult, Wakeup } from '../config.js';
import { END, RecordTemplate, consumeLoop, measure, type ProducerKind, type Session } from '../harness.js';

/** The producer API a contender exercises. */
type Api = 'raw' | 'reserve' | 'output';

interface Extra {
  handle: RingBufferHandle;
  api: Api;
}

/** Commit flags of record `seq` under `wakeup`. */
function flagsFor(wakeup: Wakeup): (seq: number) => number {
  if (wakeup === 'adaptive') return () => 0;
  if (wakeup === 'none') return () => BPF_RB_NO_WAKEUP;
  return (seq) => (seq % wakeup === 0 ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
}

/** Writes one record with `api`; false when the ring has no room now. */
function emitter(rb: RingBuffer, api: Api, record: RecordTemplate): (seq: number, flags: number) => boolean {
  const size = record.bytes.length;
  switch (api) {
    case 'raw': {
      const { bytes } = rb;
      return (seq, flags) => {
        const offset = rb.reserveRaw(size);
        if (offset === 0) return false;
        bytes.set(record.stamp(seq), offset);
        rb.submitRaw(offset, flags);
        return true;
      };
    }
    case 'reserve':
      return (seq, flags) => {
        const r = rb.reserve(size);
        if (r === null) return false;
        r.data.set(record.stamp(seq));
        r.submit(flags);
        return true;
      };
    case 'output':
      return (seq, flags) => rb.output(record.stamp(seq), flags);
  }
}

/** The producer side of every wasm-ringbuf contender. */
export const wasmRingProducer: ProducerKind = {
  kind: 'wasm-ring',
  async create(init) {
    const { handle, api } = init.extra as Extra;
    const rb = await RingBuffer.attach(handle);
    const emit = emitter(rb, api, new RecordTemplate(init.recordSize, init.index));
    const flags = flagsFor(init.wakeup);
    return {
      write: (seq) => emit(seq, flags(seq)),
      end: () => emit(END, BPF_RB_FORCE_WAKEUP),
    };
  },
};

async function consume(rb: RingBuffer, config: BenchConfig, session: Session): Promise<void> {
  const { verifier } = session;
  const words = new Uint32Array(rb.memory.buffer);
  const consumer = new RingBufferConsumer().addRaw(rb, (_bytes, offset) => {
    verifier.record(words[offset >> 2]!, words[(offset >> 2) + 1]!);
  });
  await consumeLoop(consumer, config, session);
}

function wasmRing(name: string, api: Api, claim: 'lock' | 'cas'): Contender {
  return {
    name,
    validate: (config) =>
      config.recordSize > config.ringBytes - 16 ? `a ${config.ringBytes}-byte ring holds payloads of up to ${config.ringBytes - 16} bytes` : null,
    async run(config): Promise<RunResult> {
      const rb = await RingBuffer.create({ size: config.ringBytes, claim });
      const extra: Extra = { handle: rb.handle, api };
      const result = await measure(config, wasmRingProducer, extra, (session) => consume(rb, config, session));
      const stats = rb.stats();
      if (stats.dropped !== result.drops) {
        throw new Error(`the ring counted ${stats.dropped} refused reservations, its producers ${result.drops}`);
      }
      return { ...result, wakeups: stats.wakeups, lockWaits: stats.lockWaits };
    },
  };
}

/** The zero-allocation path (reserveRaw, copy, submitRaw) under the producer lock, the default. */
export const wasmRawLock = wasmRing('wasm-ringbuf raw lock', 'raw', 'lock');
/** The zero-allocation path with the lock-free compare-and-swap claim (`claim: 'cas'`). */
export const wasmRawCas = wasmRing('wasm-ringbuf raw cas', 'raw', 'cas');
/** The object API: reserve() returns a Reservation, its data view is filled, then submit(). */
export const wasmReserve = wasmRing('wasm-ringbuf reserve', 'reserve', 'lock');
/** output(): one call copies the record in and submits it. */
export const wasmOutput = wasmRing('wasm-ringbuf output', 'output', 'lock');
