// wasm-ringbuf itself, written and read the README's way: each producer
// worker calls `rb.reserve(len)` → `r.data.set(bytes)` → `r.submit(flags)`,
// the main thread consumes with a view callback, looping on `await
// consumer.poll()` (or, with BPF_RB_NO_WAKEUP, draining and sleeping 1 ms
// when it finds nothing: harness.ts ringLoop()). The cell's wakeup mode
// gives the flags: 0 (adaptive, the default path), BPF_RB_NO_WAKEUP or
// BPF_RB_FORCE_WAKEUP. Its variants write with another producer call:
// `rb.output(bytes, flags)` on the same ring, and on a `singleProducer` ring
// (one producer only).

import { BPF_RB_CONS_POS, RingBuffer, RingBufferConsumer, type RingBufferHandle } from 'wasm-ringbuf';
import { commonRefusal, ringLoop, ringStride, type Contender } from '../harness.js';

interface State {
  rb: RingBuffer;
  stride: number;
}

/** How a producer writes a record. */
type Call = 'reserve' | 'output' | 'single output';

function ringVia(call: Call, name: string): Contender<State> {
  return {
    name,
    validate: (config) =>
      commonRefusal(config) ??
      (config.recordSize > config.ringBytes - 16
        ? `a ${config.ringBytes}-byte ring holds payloads of up to ${config.ringBytes - 16} bytes`
        : call === 'single output' && config.producers > 1
          ? 'a singleProducer ring has one producer'
          : null),
    async setup(config) {
      const rb = await RingBuffer.create({ size: config.ringBytes, singleProducer: call === 'single output' });
      return { state: { rb, stride: ringStride(config.recordSize) }, shared: rb.handle };
    },
    async producer(init) {
      const rb = await RingBuffer.attach(init.shared as RingBufferHandle);
      if (call !== 'reserve') return { write: (record, flags) => rb.output(record, flags) };
      return {
        write(record, flags) {
          const r = rb.reserve(record.length);
          if (r === null) return false;
          r.data.set(record);
          r.submit(flags);
          return true;
        },
      };
    },
    consumer({ rb }, config, session) {
      const words = new Uint32Array(rb.memory.buffer);
      return ringLoop(
        new RingBufferConsumer(rb, (data) => session.record(words, data.byteOffset >> 2)),
        config,
        session,
      );
    },
    measure({ rb, stride }, session) {
      const { dropped, wakeups } = rb.stats();
      // every record, END records too, moved the consumer position by one stride
      return { records: rb.query(BPF_RB_CONS_POS) / stride - session.verifier.producers, drops: dropped, wakeups };
    },
    report(_, config) {
      const commit = call === 'reserve' ? 'submit' : 'output';
      return config.wakeup === 'NO_WAKEUP'
        ? `${commit}(BPF_RB_NO_WAKEUP); consume(), sleep 1 ms when empty`
        : `${commit}(${config.wakeup === 'adaptive' ? '0' : 'BPF_RB_FORCE_WAKEUP'}); await consumer.poll()`;
    },
  };
}

/** The README's pattern: reserve → data.set → submit. */
export const ring = ringVia('reserve', 'wasm-ringbuf');
/** output() on the same kind of ring. */
export const ringOutput = ringVia('output', 'wasm-ringbuf output()');
/** output() on a singleProducer ring. */
export const ringSingle = ringVia('single output', 'wasm-ringbuf singleProducer output()');
