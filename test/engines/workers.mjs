// The one file where the engines differ: Node, Deno and Bun start producers
// with node:worker_threads (workerData in, parentPort out); browsers start
// module Web Workers (the data goes in as the first message). Both sides of a
// worker go through here.

/** Node, Deno and Bun: they all have node:worker_threads and Node's process. */
export const nodeLike = typeof process === 'object' && typeof process?.versions?.node === 'string';

/** Whether this (main) thread may block in Atomics.wait: Node's main thread may, a page's may not. */
export const mainThreadMayBlock = nodeLike;

/**
 * Starts the worker module at `url` with `data`. Its messages are read in
 * order with `next(timeoutMs, what)`, which rejects when the worker fails,
 * exits before sending one, or sends none within `timeoutMs`.
 */
export async function startWorker(url, data) {
  const queue = [];
  const waiting = [];
  const push = (item) => {
    const take = waiting.shift();
    if (take) take(item);
    else queue.push(item);
  };
  let stop;
  if (nodeLike) {
    const { Worker } = await import('node:worker_threads');
    const worker = new Worker(url, { workerData: data });
    worker.on('message', (message) => push({ message }));
    worker.on('error', (error) => push({ error }));
    worker.on('exit', (code) => push({ error: new Error(`the worker exited (code ${code}) before this message`) }));
    stop = () => worker.terminate();
  } else {
    const worker = new Worker(url, { type: 'module' });
    worker.onmessage = ({ data: message }) => push({ message });
    worker.onerror = (event) => {
      event.preventDefault?.();
      const where = event.filename ? ` (${event.filename}:${event.lineno})` : '';
      push({
        error: new Error(`the worker failed: ${event.message || 'no message (the module did not load?)'}${where}`),
      });
    };
    worker.onmessageerror = () => push({ error: new Error('a message from the worker could not be read') });
    worker.postMessage(data);
    stop = () => worker.terminate();
  }
  return {
    next(timeoutMs, what) {
      const item = queue.length > 0 ? Promise.resolve(queue.shift()) : new Promise((take) => waiting.push(take));
      let timer;
      const timeout = new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${what}: no message from the worker in ${timeoutMs} ms`)),
          timeoutMs,
        );
      });
      return Promise.race([item, timeout])
        .finally(() => clearTimeout(timer))
        .then(({ message, error }) => {
          if (error) throw error;
          return message;
        });
    },
    async terminate() {
      await stop();
    },
  };
}

let port;

/** In a worker: the data it was started with. Call it before any other await. */
export function workerInput() {
  if (nodeLike) {
    return import('node:worker_threads').then(({ workerData, parentPort }) => {
      port = parentPort;
      return workerData;
    });
  }
  return new Promise((resolve) => {
    self.addEventListener('message', ({ data }) => resolve(data), { once: true });
  });
}

/** In a worker: sends `message` to the thread that started it. */
export function report(message) {
  if (nodeLike) port.postMessage(message);
  else self.postMessage(message);
}
