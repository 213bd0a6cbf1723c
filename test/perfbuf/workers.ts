// Worker plumbing of the perf-buffer suites: start fixture workers that
// report `ready` and then `done`, release them together, and bound every wait.
import { Worker } from 'node:worker_threads';

export interface Started<T> {
  workers: Worker[];
  ready: Promise<unknown[]>;
  done: Promise<T[]>;
  go: () => void;
  terminate: () => Promise<void>;
}

/** Starts one worker of `fixture` per entry of `data`; each gets `start`, the barrier `go()` opens. */
export function startWorkers<T>(fixture: string, data: Record<string, unknown>[]): Started<T> {
  const start = new SharedArrayBuffer(4);
  const workers: Worker[] = [];
  const ready: Promise<unknown>[] = [];
  const done: Promise<T>[] = [];
  for (const d of data) {
    const worker = new Worker(new URL(`../fixtures/${fixture}`, import.meta.url), { workerData: { start, ...d } });
    // listeners attached at creation: a worker can finish before a later listener would see it
    const exit = new Promise<never>((_, reject) => {
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`${fixture} worker exited with code ${code} before reporting`)));
    });
    exit.catch(() => {});
    ready.push(
      Promise.race([new Promise((resolve) => worker.on('message', (m) => m.type === 'ready' && resolve(m))), exit]),
    );
    done.push(
      Promise.race([
        new Promise<T>((resolve) => worker.on('message', (m) => m.type === 'done' && resolve(m as T))),
        exit,
      ]),
    );
    workers.push(worker);
  }
  const gate = new Int32Array(start);
  const all = Promise.all(done);
  all.catch(() => {}); // a test that terminates its workers early need not await them
  return {
    workers,
    ready: Promise.all(ready),
    done: all,
    go: () => {
      Atomics.store(gate, 0, 1);
      Atomics.notify(gate, 0);
    },
    terminate: async () => {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
