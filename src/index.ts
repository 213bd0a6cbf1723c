/**
 * wasm-ringbuf: the Linux BPF ring buffer for JavaScript. Many producers on
 * any threads, one consumer reading every record in order; reserve/commit runs
 * in WebAssembly over one shared memory.
 * @packageDocumentation
 */
export { RingBuffer } from './ring-buffer.js';
export type {
  RingBufferOptions,
  RingBufferHandle,
  RingBufferStats,
  ProducerStats,
  ReapResult,
  WaitForRoomOptions,
} from './ring-buffer.js';
export { Reservation } from './reservation.js';
export { RingBufferConsumer } from './consumer.js';
export type { SampleCallback, RawSampleCallback, Stall, WaitOptions, PollOptions } from './consumer.js';
export {
  BPF_RB_NO_WAKEUP,
  BPF_RB_FORCE_WAKEUP,
  BPF_RB_AVAIL_DATA,
  BPF_RB_RING_SIZE,
  BPF_RB_CONS_POS,
  BPF_RB_PROD_POS,
  BPF_RB_OVERWRITE_POS,
} from './constants.js';
export type { CommitFlags, QueryKey } from './constants.js';
export { RingBufferRangeError, RingBufferTypeError, RingBufferStateError, RingBufferCorruptError } from './errors.js';
export type { RingBufferErrorCode } from './errors.js';
export { PerfBuffer, PerfBufferProducer, PerfReservation, PerfBufferConsumer } from './perfbuf/index.js';
export type {
  PerfBufferOptions,
  PerfBufferHandle,
  PerfBufferConsumerOptions,
  PerfSampleCallback,
  PerfRawSampleCallback,
  PerfLostCallback,
} from './perfbuf/index.js';
export { FairConsumer } from './fair.js';
export type { FairConsumerOptions } from './fair.js';
export { ShardedRings } from './shard.js';
export type { ShardedRingsOptions, ShardedRingsHandle } from './shard.js';
export type {} from './globals.js';
export { readRecords, readBatches, createReadableStream, createWritableStream } from './streams.js';
export type { ReadRecordsOptions, RecordIterator, WritableStreamOptions } from './streams.js';
export { utf8Length, writeText, writeTextAsync, writeJSON, writeJSONAsync, readText, readJSON } from './codec.js';
export type { RecordProducer } from './codec.js';
