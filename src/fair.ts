// A consumer of many rings that serves them round-robin, and the round-robin
// pass it shares with the unordered per-producer consumer (src/perfbuf/merge.ts).

import { CallbackConsumer } from './consumer.js';
import type { RecordVisitor, RingWalk } from './walk.js';
import { checkCount, checkPositive } from './errors.js';
import type { WaitOptions } from './wait.js';

/**
 * @internal
 * The round-robin pass: up to `quantum` records from each ring in turn,
 * starting after the ring that delivered last (`turns.start`), until `n`
 * records or a pass that finds nothing. With `snapshot` (consume()), each
 * ring stops at the position its producers had reached when the call began,
 * so the call ends even while a producer floods. Ring `i`'s records go to
 * `visits[i]`; a negative return stops the pass and is returned.
 */
export function roundRobin(
  walks: readonly RingWalk[],
  turns: { start: number },
  quantum: number,
  n: number,
  snapshot: boolean,
  visits: readonly RecordVisitor[],
): number {
  const k = walks.length;
  const limits = snapshot ? walks.map((w) => w.ring.core.producerPos()) : null;
  let total = 0;
  try {
    for (;;) {
      let round = 0;
      const first = turns.start;
      for (let j = 0; j < k && total < n; j++) {
        const i = (first + j) % k;
        const cur = walks[i]!;
        const turn = cur.deliver(Math.min(quantum, n - total), visits[i]!, limits === null ? Infinity : limits[i]!);
        if (turn < 0) {
          turns.start = (i + 1) % k;
          return turn;
        }
        total += turn;
        cur.publish();
        round += turn;
        // the next call starts after the last ring that delivered
        if (turn > 0) turns.start = (i + 1) % k;
      }
      if (round === 0 || total >= n) return total;
    }
  } finally {
    for (const cur of walks) cur.publish();
  }
}

/** Options of `FairConsumer`. */
export interface FairConsumerOptions extends WaitOptions {
  /**
   * Records a ring may deliver per turn before the next ring's turn
   * (default 16). Smaller is fairer, larger reads longer runs from one ring.
   */
  quantum?: number;
}

/**
 * A consumer of many rings that serves them round-robin: each ring with
 * records delivers at most `quantum` of them per turn, then the next ring
 * goes, and each `consumeN()` call starts at the ring after the one that went
 * last. A ring that never runs dry therefore takes at most its share of each
 * call, where `RingBufferConsumer.consumeN()` (like libbpf's
 * `ring_buffer__consume_n()`) drains its rings in the order they were added.
 * `consume()` delivers at most what each ring held when the call began, so it
 * ends even while a producer floods. Same callbacks, return values, waiting
 * and closing as `RingBufferConsumer`. With wakeup moderation, a record that
 * arrives during a pass can wait behind what the other rings held when it
 * began, which a nap lets grow to a quarter of a ring; `napMs: 0` keeps the
 * wait to about one turn. One thread only.
 */
export class FairConsumer extends CallbackConsumer {
  readonly #quantum: number;
  readonly #turns = { start: 0 };

  constructor(options: FairConsumerOptions = {}) {
    super(options);
    const { quantum = 16 } = options;
    checkPositive(quantum, 'quantum', 2 ** 30, 'Use a positive integer such as 16.');
    this.#quantum = quantum;
  }

  /** `ring_buffer__consume()`: every record each ring held when the call began, round-robin. */
  consume(): number {
    this.waiter.check();
    return roundRobin(this.walks, this.#turns, this.#quantum, Infinity, true, this.#visits());
  }

  /** `ring_buffer__consume_n()`: up to `n` records, round-robin, `quantum` per ring per turn. */
  consumeN(n: number): number {
    checkCount(n);
    this.waiter.check();
    return roundRobin(this.walks, this.#turns, this.#quantum, n, false, this.#visits());
  }

  /** Each ring's callback, in the order of the rings. */
  #visits(): readonly RecordVisitor[] {
    if (this.#visitsOf.length !== this.subs.length) this.#visitsOf = this.subs.map((s) => s.visit);
    return this.#visitsOf;
  }

  #visitsOf: readonly RecordVisitor[] = [];
}
