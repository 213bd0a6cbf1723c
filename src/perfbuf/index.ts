// Per-producer buffers: the buffer, its producers and its consumer.
export { PerfBuffer } from './buffer.js';
export type { PerfBufferOptions, PerfBufferHandle } from './buffer.js';
export { PerfBufferProducer, PerfReservation } from './producer.js';
export { PerfBufferConsumer } from './merge.js';
export type {
  PerfBufferConsumerOptions,
  PerfSampleCallback,
  PerfRawSampleCallback,
  PerfLostCallback,
} from './merge.js';
