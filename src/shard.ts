// N producers over K rings (the BPF "array of ring buffers" pattern), consumed
// by one FairConsumer (src/fair.ts).

import {
  RingBufferRangeError,
  RingBufferTypeError,
  checkFunction,
  checkInteger,
  checkOptions,
  describeValue,
} from './errors.js';
import { FairConsumer, type FairConsumerOptions } from './fair.js';
import { RingBuffer, type RingBufferHandle, type RingBufferOptions } from './ring-buffer.js';
import { checkCreateOptions } from './ring-options.js';

/** Producer indices go up to this: any number of producers, one index each. */
const MAX_INDEX = 2 ** 31;

function checkIndex(index: unknown): asserts index is number {
  checkInteger(index, 'producer index', MAX_INDEX, 'Use 0, 1, 2, ... one per producer.');
}

/** Options of `ShardedRings.create()`. */
export interface ShardedRingsOptions extends Omit<RingBufferOptions, 'singleProducer' | 'overwrite'> {
  /** Number of rings, K >= 1. Producer i writes to ring i % K. */
  rings: number;
}

/** What `ShardedRings.handle` returns: structured-cloneable, one ring handle per shard. */
export interface ShardedRingsHandle {
  readonly kind: 'wasm-ringbuf-shards';
  readonly rings: readonly RingBufferHandle[];
}

/**
 * N producers over K rings (the BPF "array of ring buffers" pattern: one
 * ring per CPU, or something in between with a few rings): producer `i`
 * writes to ring `i % K`, so up to ceil(N/K) producers share each ring's
 * lock. Consume all of them with `consumer()` (a `FairConsumer`), or add the
 * rings to a `RingBufferConsumer`. Records from different rings carry no
 * common order.
 */
export class ShardedRings {
  /** The rings, shard 0 first. */
  readonly rings: readonly RingBuffer[];

  private constructor(rings: RingBuffer[]) {
    this.rings = rings;
  }

  /** Creates K rings with the same options. Rejects on bad options, as `RingBuffer.create()`. */
  static async create(options: ShardedRingsOptions): Promise<ShardedRings> {
    checkOptions(options, 'ShardedRings.create()', '{ rings: 2, size: 65536 }');
    const { rings: k, ...ring } = options;
    checkInteger(k, 'rings', 256, 'Use from 1 to 256 rings.');
    if (k === 0) throw new RingBufferRangeError('rings must be from 1 to 256; got 0', 'ERR_RINGBUF_RANGE');
    checkCreateOptions(ring); // every ring's options, before the first ring is made
    const rings: RingBuffer[] = [];
    for (let i = 0; i < k; i++) rings.push(await RingBuffer.create(ring));
    return new ShardedRings(rings);
  }

  /** The ring producer `index` (0, 1, ...) writes to: ring `index % K`, attached in this thread. */
  static async attach(handle: ShardedRingsHandle, index: number): Promise<RingBuffer> {
    if (
      handle === null ||
      typeof handle !== 'object' ||
      handle.kind !== 'wasm-ringbuf-shards' ||
      !Array.isArray(handle.rings) ||
      handle.rings.length === 0
    ) {
      throw new RingBufferTypeError(
        `not a sharded-rings handle (got ${describeValue(handle)}): ` +
          'pass the value of shards.handle from ShardedRings.create()',
        'ERR_RINGBUF_HANDLE',
      );
    }
    checkIndex(index);
    return RingBuffer.attach(handle.rings[index % handle.rings.length]!);
  }

  /** A structured-cloneable handle for `ShardedRings.attach()` in another thread. */
  get handle(): ShardedRingsHandle {
    return { kind: 'wasm-ringbuf-shards', rings: this.rings.map((r) => r.handle) };
  }

  /** The ring of producer `index`. */
  ringOf(index: number): RingBuffer {
    checkIndex(index);
    return this.rings[index % this.rings.length]!;
  }

  /** A `FairConsumer` of every ring, calling `callback(data, lost, shard)`. */
  consumer(
    callback: (data: Uint8Array, lost: number, shard: number) => number | void,
    options?: FairConsumerOptions,
  ): FairConsumer {
    checkFunction(callback, 'callback');
    const c = new FairConsumer(options);
    return addAll(c, () => {
      for (const [shard, ring] of this.rings.entries()) c.add(ring, (data, lost) => callback(data, lost, shard));
    });
  }

  /** As `consumer()`, with the zero-allocation callback form. */
  consumerRaw(
    callback: (bytes: Uint8Array, offset: number, length: number, lost: number, shard: number) => number | void,
    options?: FairConsumerOptions,
  ): FairConsumer {
    checkFunction(callback, 'callback');
    const c = new FairConsumer(options);
    return addAll(c, () => {
      for (const [shard, ring] of this.rings.entries()) {
        c.addRaw(ring, (bytes, offset, length, lost) => callback(bytes, offset, length, lost, shard));
      }
    });
  }
}

/** Runs `add` (which adds every ring to `c`) and returns `c`; if a ring is refused, `c` gives the others back first. */
function addAll(c: FairConsumer, add: () => void): FairConsumer {
  try {
    add();
  } catch (err) {
    c.close();
    throw err;
  }
  return c;
}
