import { Worker } from 'node:worker_threads';
import type { RingBufferHandle } from 'wasm-ringbuf';

export interface ProducerOptions {
  seed: number;
  count: number;
  min: number;
  max: number;
  flags?: number;
  api?: 'raw' | 'object' | 'output' | 'blocking';
  /** Records per burst before a short pause (0: no pauses). */
  burst?: number;
  /** Retry a refused record (true) or count it and move on (false). */
  retry?: boolean;
  /** Reserve one record, report `holding`, and never commit it. */
  hold?: boolean;
  /** The writer id in the records (default: the producer id): unique across producers whose ids are reused. */
  tag?: number;
}

export interface ProducerResult {
  id: number;
  produced: number;
  dropped: number;
}

/** A producer worker: `ready` resolves with its producer id, `done` with its counts. */
export interface Producer {
  worker: Worker;
  ready: Promise<number>;
  done: Promise<ProducerResult>;
}

/**
 * Starts `n` producer workers on `handle`. They wait at a barrier until
 * `go()` is called, so all of them start together.
 */
export function startProducers(
  handle: RingBufferHandle,
  n: number,
  options: ProducerOptions,
): { producers: Producer[]; go: () => void } {
  const start = new SharedArrayBuffer(4);
  const producers = Array.from({ length: n }, () => {
    const worker = new Worker(new URL('../fixtures/producer.mjs', import.meta.url), {
      workerData: { handle, start, ...options },
    });
    // Listeners attached at creation: a worker can finish before a later listener would see it.
    const exit = new Promise<never>((_, reject) => {
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`producer worker exited with code ${code} before reporting`)));
    });
    const ready = new Promise<number>((resolve) => worker.on('message', (m) => m.type === 'ready' && resolve(m.id)));
    const done = new Promise<ProducerResult>((resolve) => worker.on('message', (m) => m.type === 'done' && resolve(m)));
    return { worker, ready: Promise.race([ready, exit]), done: Promise.race([done, exit]) };
  });
  const gate = new Int32Array(start);
  return {
    producers,
    go: () => {
      Atomics.store(gate, 0, 1);
      Atomics.notify(gate, 0);
    },
  };
}

/** Scales an iteration count: SOAK=1 runs ten times longer. */
export function scaled(n: number): number {
  return process.env.SOAK ? n * 10 : n;
}

/** A seed from SEED, or a fresh one (printed by the verifier on failure). */
export function seedFor(name: string): number {
  const env = process.env.SEED;
  if (env !== undefined) return Number(env) >>> 0;
  let h = Date.now() >>> 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}
