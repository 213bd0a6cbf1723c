import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { RingBufferHandle } from 'wasm-ringbuf';

/** Starts `n` JSON producer workers; resolves when every one has exited (rejects if one fails). */
export function jsonProducers(
  handle: RingBufferHandle,
  n: number,
  count: number,
  wait = true,
  firstWorker = 0,
): Promise<void> {
  const exits = Array.from({ length: n }, (_, i) => {
    const w = firstWorker + i;
    const worker = new Worker(new URL('./fixtures/json-producer.mjs', import.meta.url), {
      workerData: { handle, w, count, wait },
    });
    // attached at creation: a worker can exit before a later listener would see it
    return once(worker, 'exit').then(([code]) => {
      if (code !== 0) throw new Error(`producer ${w} exited with code ${code}`);
    });
  });
  return Promise.all(exits).then(() => undefined);
}

export interface Line {
  w: number;
  seq: number;
  msg: string;
}

/** Checks that `lines` hold every producer's lines, each producer's in order. */
export function checkLines(lines: Line[], producers: number, count: number): void {
  const next = new Array<number>(producers).fill(0);
  for (const l of lines) {
    if (l.seq !== next[l.w]) throw new Error(`worker ${l.w}: line ${l.seq} where ${next[l.w]} was due`);
    if (l.msg !== `worker ${l.w} line ${l.seq} é😀`)
      throw new Error(`worker ${l.w} line ${l.seq}: message ${JSON.stringify(l.msg)}`);
    next[l.w]!++;
  }
  if (next.some((n) => n !== count)) throw new Error(`lines per worker ${next.join(', ')}; ${count} expected`);
}
