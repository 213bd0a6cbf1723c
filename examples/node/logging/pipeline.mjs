#!/usr/bin/env node
// A logging pipeline: N worker_threads log structured lines into ONE ring;
// ONE consumer on the main thread writes them to a file as NDJSON through
// sonic-boom (pino's own fast writer).
//
//   node examples/node/logging/pipeline.mjs [--workers=4] [--lines=50000] [--drop] [--file=build/logging/app.ndjson]
//
// - No decode, no re-encode: each record already is the line's UTF-8 JSON, so
//   the consumer copies the bytes of a pass into one buffer, a newline after
//   each, and hands that buffer to sonic-boom in one write.
// - Backpressure from the file to the producers: when sonic-boom's write()
//   returns false (more than its high-water mark is waiting for the disk),
//   the consumer stops consuming until 'drain'. The ring fills; producers then
//   wait for room (the default: nothing is lost) or, with --drop, drop lines
//   and count them.
// - Loss reported: where the consumer learns that lines were lost (the ring's
//   `lost` count, delivered with the next record), it writes a line saying
//   so, in place; at the end it reports the total, which equals what the
//   producers counted (rb.stats().dropped).
import { once } from 'node:events';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import SonicBoom from 'sonic-boom';
import { RingBuffer, RingBufferConsumer } from 'wasm-ringbuf';

const NEWLINE = 0x0a;
/** Bytes of lines one pass gathers before it hands them to the file. */
const PASS_BYTES = 256 * 1024;

/**
 * Starts `workers` logging workers (via 'ring' or 'pino'), releases them
 * together once all are ready, and resolves when every one has finished:
 * `{ started, done }`, with each worker's report in `done`.
 */
export async function startWorkers({ via, workers, lines, wait = true, handle, file }) {
  const start = new SharedArrayBuffer(4);
  const spawned = Array.from({ length: workers }, (_, worker) => {
    const w = new Worker(new URL('./worker.mjs', import.meta.url), {
      workerData: { via, handle, file, worker, lines, wait, start },
    });
    // listeners at creation: a worker can exit before a later listener would see it
    const failed = new Promise((_, reject) => {
      w.once('error', reject);
      w.once('exit', (code) => reject(new Error(`logging worker ${worker} exited (code ${code}) before it reported`)));
    });
    const message = (type) =>
      Promise.race([failed, new Promise((ok) => w.on('message', (m) => m.type === type && ok(m)))]);
    return { ready: message('ready'), done: message('done'), exited: once(w, 'exit') };
  });
  await Promise.all(spawned.map((s) => s.ready));
  const gate = new Int32Array(start);
  Atomics.store(gate, 0, 1);
  Atomics.notify(gate, 0);
  const started = performance.now();
  const done = Promise.all(
    spawned.map(async (s) => {
      const report = await s.done;
      await s.exited;
      return report;
    }),
  );
  return { started, done };
}

/**
 * Runs the pipeline and resolves with its report: lines written, losses
 * (reported in the file, and counted by the ring), the consumer's waits for
 * the file, the producers' waits for room, and the time from the start
 * barrier to the file being closed.
 */
export async function runPipeline({
  workers = 4,
  lines = 50_000,
  file = 'build/logging/app.ndjson',
  ringSize = 1 << 20,
  wait = true,
  consumerDelayMs = 0,
} = {}) {
  mkdirSync(dirname(resolve(file)), { recursive: true });
  rmSync(file, { force: true });
  const rb = await RingBuffer.create({ size: ringSize });
  const dest = new SonicBoom({ dest: file, contentMode: 'buffer', sync: false });
  await once(dest, 'ready');

  // a pass ends once PASS_BYTES are gathered; room for one more record and one loss notice past it
  const capacity = PASS_BYTES + rb.maxRecord + 256;
  const memory = Buffer.from(rb.memory.buffer); // the ring's bytes, for Buffer.copy (a memcpy, no view per record)
  let batch = Buffer.allocUnsafe(capacity);
  let used = 0;
  let records = 0;
  let lost = 0;
  let lossLines = 0;
  const lossLine = (count) => {
    const line = Buffer.from(
      `${JSON.stringify({ level: 40, time: Date.now(), msg: `lost ${count} line(s) here: the ring was full`, lost: count })}\n`,
    );
    line.copy(batch, used);
    used += line.length;
    lossLines++;
  };
  const consumer = new RingBufferConsumer().addRaw(rb, (_bytes, offset, length, lostBefore) => {
    if (lostBefore > 0) {
      lost += lostBefore;
      lossLine(lostBefore);
    }
    memory.copy(batch, used, offset, offset + length);
    used += length;
    batch[used++] = NEWLINE;
    records++;
    return used >= PASS_BYTES ? -1 : 0; // a full batch ends the pass (the record counts as consumed)
  });

  let fileWaits = 0;
  /** Hands the batch to sonic-boom (which keeps the buffer: a new one is taken); waits for 'drain' if it is over its mark. */
  const flush = async () => {
    if (used === 0) return;
    const full = !dest.write(batch.subarray(0, used));
    batch = Buffer.allocUnsafe(capacity);
    used = 0;
    if (full) {
      fileWaits++;
      await once(dest, 'drain'); // backpressure: no consuming while the file is behind
    }
  };

  const run = await startWorkers({ via: 'ring', workers, lines, wait, handle: rb.handle });
  let running = true;
  const finished = run.done.finally(() => (running = false));
  if (consumerDelayMs > 0) await new Promise((r) => setTimeout(r, consumerDelayMs));
  while (running) {
    await consumer.poll(50);
    await flush();
  }
  while (consumer.consume() !== 0) await flush(); // what was committed before the last worker finished
  await flush();
  const reports = await finished;
  const { dropped, roomWaits } = rb.stats();
  if (dropped > lost) {
    // refusals after the last record: no record carried them, so report them at the end
    lossLine(dropped - lost);
    lost = dropped;
    await flush();
  }
  consumer.close();
  dest.end();
  await once(dest, 'close');
  const ms = performance.now() - run.started;
  return {
    file,
    workers,
    linesPerWorker: lines,
    written: records,
    lost,
    lossLines,
    producersCounted: reports.reduce((n, r) => n + r.dropped, 0),
    ringDropped: dropped,
    fileWaits,
    roomWaits,
    ms,
    linesPerSecond: (records / ms) * 1000,
  };
}

// Run as a script.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (name, fallback) => {
    const a = process.argv.find((x) => x.startsWith(`--${name}=`));
    return a ? a.slice(name.length + 3) : fallback;
  };
  const report = await runPipeline({
    workers: Number(arg('workers', 4)),
    lines: Number(arg('lines', 50_000)),
    file: arg('file', 'build/logging/app.ndjson'),
    wait: !process.argv.includes('--drop'),
  });
  console.log(
    `${report.written} lines from ${report.workers} workers in ${report.ms.toFixed(0)} ms ` +
      `(${Math.round(report.linesPerSecond).toLocaleString('en-US')} lines/s) to ${report.file}; ` +
      `lost ${report.lost} (reported in ${report.lossLines} line(s); the producers counted ${report.producersCounted}); ` +
      `the consumer waited for the file ${report.fileWaits} times, producers for room ${report.roomWaits} times`,
  );
}
