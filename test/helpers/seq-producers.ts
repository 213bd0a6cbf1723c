// Producer workers of test/concurrency/fixtures/seq-producer.mjs, and a
// checker of what one or more readers of a ring were handed, in the order
// they were handed it: every record intact, each producer's in order, and
// every gap in a sequence equal to what the readers were told they lost.
import { Worker } from 'node:worker_threads';
import type { RingBufferHandle } from 'wasm-ringbuf';
import { SequenceVerifier } from './sequence.mjs';

export interface SeqProducerOptions {
  seed: number;
  count: number;
  min: number;
  max: number;
  /** 'wait': wait for room; 'skip': a refused record leaves a gap in the sequence. */
  mode: 'wait' | 'skip';
  /** In 'wait' mode: reserveRawBlocking() or outputBlocking(). */
  api?: 'reserve' | 'output';
  /** Records between short pauses (0: none). */
  burst?: number;
  flags?: number;
  /** How long a wait for room may last before the record is refused (and counted). */
  waitMs?: number;
}

export interface SeqResult {
  id: number;
  attempts: number;
  written: number;
  refused: number;
}

export interface SeqProducer {
  worker: Worker;
  /** Its producer id. */
  ready: Promise<number>;
  done: Promise<SeqResult>;
  /** Settles when the worker has exited (listener attached at creation). */
  exited: Promise<number>;
}

/** Starts `n` producers on `handle`, held at a barrier until `go()`. */
export function startSeqProducers(
  handle: RingBufferHandle,
  n: number,
  options: SeqProducerOptions,
): { producers: SeqProducer[]; go: () => void; stop: () => Promise<void> } {
  const start = new SharedArrayBuffer(4);
  const producers = Array.from({ length: n }, (): SeqProducer => {
    const worker = new Worker(new URL('../concurrency/fixtures/seq-producer.mjs', import.meta.url), {
      workerData: { handle, start, ...options },
    });
    // attached at creation: a worker can exit before a later listener would see it
    const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
    const failed = new Promise<never>((_, reject) => {
      worker.once('error', reject);
      void exited.then((code) => reject(new Error(`producer worker exited with code ${code} before reporting`)));
    });
    const ready = new Promise<number>((resolve) => worker.on('message', (m) => m.type === 'ready' && resolve(m.id)));
    const done = new Promise<SeqResult>((resolve) => worker.on('message', (m) => m.type === 'done' && resolve(m)));
    const p = { worker, ready: Promise.race([ready, failed]), done: Promise.race([done, failed]), exited };
    p.ready.catch(() => {});
    p.done.catch(() => {});
    return p;
  });
  const gate = new Int32Array(start);
  return {
    producers,
    go: () => {
      Atomics.store(gate, 0, 1);
      Atomics.notify(gate, 0);
    },
    stop: async () => {
      await Promise.all(
        producers.map(async (p) => {
          await p.worker.terminate();
          await p.exited;
        }),
      );
    },
  };
}

/** One record as a reader handed it: a copy of its bytes and the losses reported with it. */
export interface Handed {
  bytes: Uint8Array;
  lost: number;
  /** Which reader handed it (for messages). */
  reader: number;
}

/**
 * Checks records in the order they were handed to the user, across readers.
 * With `gaps` (overwrite mode, or refusals that skip a sequence number), a
 * producer's sequence may skip ahead; the losses reported must then account
 * for every skipped record at its place: with one producer, the `lost` of a
 * record equals the records missing right before it; with several (whose
 * relative order the checker does not know), the losses reported up to any
 * record are at least the records found missing so far.
 */
export class HandedChecker {
  readonly verifier: SequenceVerifier;
  readonly errors: string[] = [];
  readonly #exact: boolean;
  readonly #seed: number;
  lost = 0;
  records = 0;
  /** The losses reported with the end marker (a record of length 0), -1 until it is seen. */
  trailing = -1;

  constructor(seed: number, ids: number[], min: number, max: number, gaps: boolean) {
    this.#seed = seed;
    this.verifier = new SequenceVerifier(seed, ids, min, max, { gaps });
    this.#exact = ids.length === 1;
  }

  check(h: Handed): void {
    if (h.bytes.length === 0) {
      if (this.trailing >= 0) this.#fail(`reader ${h.reader}: a second end marker`);
      this.trailing = h.lost;
      this.lost += h.lost;
      return;
    }
    if (this.trailing >= 0) this.#fail(`reader ${h.reader}: a record after the end marker`);
    const before = this.verifier.skipped;
    const errors = this.verifier.errors.length;
    this.verifier.check(h.bytes, 0, h.bytes.length, h.lost);
    this.records++;
    this.lost += h.lost;
    const gap = this.verifier.skipped - before;
    const at = () => {
      const dv = new DataView(h.bytes.buffer, h.bytes.byteOffset);
      return `record ${this.records} (producer ${dv.getUint32(0, true)} seq ${dv.getUint32(4, true)}, reader ${h.reader})`;
    };
    if (this.verifier.errors.length > errors) {
      this.errors.push(`${at()}: ${this.verifier.errors.at(-1)}`);
      // go on from this record, so that later messages name later faults, not this one again
      const dv = new DataView(h.bytes.buffer, h.bytes.byteOffset);
      const id = dv.getUint32(0, true);
      if (h.bytes.length >= 8 && this.verifier.next.has(id)) this.verifier.next.set(id, dv.getUint32(4, true) + 1);
    } else if (this.#exact && h.lost !== gap)
      this.#fail(`${at()}: reported lost ${h.lost}, but ${gap} records are missing right before it`);
    else if (!this.#exact && this.lost < this.verifier.skipped) {
      this.#fail(`${at()}: ${this.verifier.skipped} records missing so far, only ${this.lost} reported lost`);
    }
  }

  #fail(message: string): void {
    if (this.errors.length < 10) this.errors.push(`${message} [seed ${this.#seed}]`);
  }
}
