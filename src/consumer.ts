// RingBufferConsumer: libbpf's `struct ring_buffer`, over RingCursors (the
// walk, src/cursor.ts) and a Waiter (the wait, src/wait.ts).

import { CallbackConsumer, type SampleCallback, type Subscription } from './consumer-base.js';
import { checkCount } from './errors.js';
import type { RingBuffer } from './ring-buffer.js';
import type { WaitOptions } from './wait.js';

export type { RawSampleCallback, SampleCallback, Stall } from './consumer-base.js';
export type { PollOptions, WaitOptions } from './wait.js';

/**
 * The consumer of one or more rings, the twin of libbpf's `struct ring_buffer`
 * (`ring_buffer__new`, `__add`, `__consume`, `__consume_n`, `__poll`,
 * `__free`). A ring has one consumer at a time; use it from one thread.
 */
export class RingBufferConsumer extends CallbackConsumer {
  /**
   * `ring_buffer__new()`: a consumer of `ring`, calling `callback` per record.
   * Both may be left out and given to `add()`. Throws a `RingBufferStateError`
   * (`ERR_RINGBUF_CONSUMER_TAKEN`) when the ring already has a consumer.
   */
  constructor(ring?: RingBuffer, callback?: SampleCallback, options?: WaitOptions) {
    super(options);
    if (ring !== undefined) this.add(ring, callback as SampleCallback);
  }

  /**
   * `ring_buffer__consume()`: hands every committed record of every ring to
   * its callback without waiting. Returns the number of records delivered, or
   * the negative number a callback returned (which stops the loop).
   */
  consume(): number {
    return this.#consume(Infinity);
  }

  /** `ring_buffer__consume_n()`: like `consume()`, but stops after `n` records. */
  consumeN(n: number): number {
    checkCount(n);
    return this.#consume(n);
  }

  #consume(n: number): number {
    return this.pass(() => {
      let total = 0;
      for (const s of this.subs) {
        if (total >= n) break;
        const got = processRing(s, n - total);
        if (got < 0) return got;
        total += got;
      }
      return total;
    });
  }
}

/**
 * libbpf's ringbuf_process_ring(): delivers up to `n` committed records of
 * one ring in order and publishes the consumer position at the end of the
 * pass (also when a callback stops or throws: that record counts as consumed).
 */
function processRing(s: Subscription, n: number): number {
  try {
    return s.cursor.deliver(n, s.visit);
  } finally {
    s.cursor.publish();
  }
}
