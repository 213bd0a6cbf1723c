/**
 * wasm-ringbuf: the Linux BPF ring buffer for JavaScript. Many producers on
 * any threads, one consumer reading every record in order; reserve/commit runs
 * in WebAssembly over one shared memory.
 * @packageDocumentation
 */
export { RingBuffer, Reservation } from './ring-buffer.js';
export type { RingBufferOptions, RingBufferHandle, RingBufferStats, ProducerStats, ReapResult } from './ring-buffer.js';
export { RingBufferConsumer } from './consumer.js';
export type { SampleCallback, RawSampleCallback, Stall } from './consumer.js';
export {
  BPF_RB_NO_WAKEUP, BPF_RB_FORCE_WAKEUP, BPF_RB_AVAIL_DATA, BPF_RB_RING_SIZE, BPF_RB_CONS_POS, BPF_RB_PROD_POS,
  BPF_RB_OVERWRITE_POS,
} from './constants.js';
export type { CommitFlags, QueryKey } from './constants.js';
export { RingBufferRangeError, RingBufferTypeError, RingBufferStateError, RingBufferCorruptError } from './errors.js';
export { PerfBuffer, PerfBufferProducer, PerfReservation, PerfBufferConsumer } from './perfbuf.js';
export type {
  PerfBufferOptions, PerfBufferHandle, PerfBufferConsumerOptions, PerfSampleCallback, PerfRawSampleCallback, PerfLostCallback,
} from './perfbuf.js';
export { FairConsumer, ShardedRings } from './shard.js';
export type { FairConsumerOptions, ShardedRingsOptions, ShardedRingsHandle } from './shard.js';
