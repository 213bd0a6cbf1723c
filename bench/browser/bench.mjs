// The browser benchmark, in the page: the README's default path (one
// module-worker producer: reserve(64) → data.set() → submit(0); the
// main-thread consumer loops on `await consumer.poll()`) against batched
// postMessage (64 records per transferred ArrayBuffer), ringbuf.js, and the
// ring with BPF_RB_NO_WAKEUP, all in this page. Every record is checked on
// the main thread (producer id, sequence number). The ratios are taken as
// bench/headline.ts takes them: one uncounted warm-up run of each side at
// half length, then rounds that run the two sides of a ratio back to back
// (A B, then B A in the next round), a ratio per round; the headline is the
// median of those ratios, with their min–max. A run lasts from the barrier
// to the END record; its rate is records checked ÷ that time.
//
// Query: rounds (11), ms (400: a side's run), warmup (1), pairs (all: a
// comma-separated list of indices into PAIRS).
import { BPF_RB_CONS_POS, RingBuffer, RingBufferConsumer } from '/dist/wasm-ringbuf.bundle.js';
import { RingBuffer as SpscRing } from '/node_modules/ringbuf.js/dist/index.mjs';
import {
  ACK,
  CONTROL_WORDS,
  DRAIN_SLEEP_MS,
  DROPS,
  END,
  GO,
  MAX_RECORDS,
  PAIRS,
  RECORD_SIZE,
  RING_BYTES,
  ringStride,
  SIDES,
  STOP,
  WRITTEN,
} from './common.mjs';

/** Time allowed for a worker to start, and past the time limit for the consumer to finish. */
const GRACE_MS = 15_000;
/** Bytes ringbuf.js's consumer pops per call, at most (bench/contenders/ringbufjs.ts). */
const CHUNK = 65536;

const post = (path, body) =>
  fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
const progress = (line) => post('/progress', { line }).catch(() => {});
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const message = (err) => (err instanceof Error ? err.message : String(err));

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length === 0 ? NaN : sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const spread = (values) => ({
  median: median(values),
  min: Math.min(...values),
  max: Math.max(...values),
  n: values.length,
});

/** The order of a pair's sides in round `round` (0-based): A B, then B A. */
const order = (round) => (round % 2 === 0 ? ['a', 'b'] : ['b', 'a']);

/** Checks one producer's stream: its sequence numbers complete and in order, then one END. */
class Verifier {
  records = 0;
  ended = false;
  error = null;
  #next = 0;

  record(id, seq) {
    if (id === 0 && seq !== END && seq === this.#next && !this.ended) {
      this.#next++;
      this.records++;
    } else if (id === 0 && seq === END && !this.ended) {
      this.ended = true;
    } else if (this.error === null) {
      this.error =
        id !== 0
          ? `a record names producer ${id}, but there is one`
          : `got sequence ${seq === END ? 'END' : seq} where ${this.ended ? 'nothing (the stream had ended)' : this.#next} was due`;
    }
  }

  get done() {
    return this.ended || this.error !== null;
  }
}

/** Producer workers, kept between runs, one per contender: each says 'ready', then 'done' (or an error) per run. */
const pool = new Map();

function workerOf(contender) {
  let entry = pool.get(contender);
  if (entry !== undefined) return entry;
  const worker = new Worker(new URL('./producer.mjs', import.meta.url), { type: 'module' });
  const inbox = [];
  let wake = null;
  const deliver = (m) => {
    inbox.push(m);
    wake?.();
  };
  worker.onmessage = ({ data }) => (data instanceof Uint8Array ? entry.onRecords(data) : deliver(data));
  worker.onerror = (e) => {
    e.preventDefault();
    deliver({ error: `the producer worker failed: ${e.message} (${e.filename}:${e.lineno})` });
  };
  worker.onmessageerror = () => deliver({ error: 'a message from the producer worker could not be read' });
  const next = async (what) => {
    if (inbox.length === 0) await withTimeout(new Promise((resolve) => (wake = resolve)), GRACE_MS, what);
    wake = null;
    const m = inbox.shift();
    if (m.error) throw new Error(m.error);
    return m;
  };
  entry = { worker, next, onRecords: () => deliver({ error: 'records arrived outside a run' }) };
  pool.set(contender, entry);
  return entry;
}

function dropWorker(contender) {
  pool.get(contender)?.worker.terminate();
  pool.delete(contender);
}

/**
 * One run of `side` for about `runMs`: sets up, starts the worker's
 * producer, releases it, consumes to the END record; checks that the
 * producer wrote what the consumer received, and that the contender's own
 * count agrees.
 */
async function runOnce(key, runMs) {
  const side = SIDES[key];
  const control = new SharedArrayBuffer(CONTROL_WORDS * 4);
  const ctl = new Int32Array(control);
  const verifier = new Verifier();
  const step = RECORD_SIZE >> 2;
  const check = (words, at) => verifier.record(words[at], words[at + 1]);
  let deadline = Infinity;
  let stopped = false;
  const tick = () => {
    if (!stopped && performance.now() >= deadline) {
      stopped = true;
      Atomics.store(ctl, STOP, 1); // read by the producer every 256 records
    }
  };
  const init = {
    contender: side.contender,
    wakeup: side.wakeup,
    index: 0,
    quota: MAX_RECORDS,
    recordSize: RECORD_SIZE,
    control,
    shared: null,
  };
  let consume;
  let counted;
  let cleanup;
  if (side.contender === 'wasm-ringbuf') {
    const rb = await RingBuffer.create({ size: RING_BYTES });
    init.shared = rb.handle;
    const words = new Uint32Array(rb.memory.buffer);
    const consumer = new RingBufferConsumer(rb, (data) => check(words, data.byteOffset >> 2));
    consume = async () => {
      while (!verifier.done) {
        if (side.wakeup === 'adaptive') await consumer.poll();
        else if (consumer.consume() === 0) await sleep(DRAIN_SLEEP_MS);
        tick();
      }
    };
    counted = () => ({
      // every record, END too, moved the consumer position by one stride
      records: rb.query(BPF_RB_CONS_POS) / ringStride(RECORD_SIZE) - 1,
      wakeups: rb.stats().wakeups,
    });
    cleanup = () => {
      consumer.close();
      rb.close();
    };
  } else if (side.contender === 'postMessage ×64') {
    let records = 0;
    let messages = 0;
    consume = () =>
      new Promise((resolve) => {
        workerOf(side.contender).onRecords = (data) => {
          const words = new Uint32Array(data.buffer, data.byteOffset, data.byteLength >> 2);
          for (let w = 0; w < words.length; w += step) check(words, w);
          const n = words.length / step;
          messages++;
          records += n;
          Atomics.add(ctl, ACK, n);
          tick();
          if (verifier.done) resolve();
        };
      });
    counted = () => ({ records: records - 1, wakeups: messages });
    cleanup = () => {
      const entry = pool.get(side.contender);
      if (entry) entry.onRecords = () => {};
    };
  } else {
    const storage = SpscRing.getStorageForCapacity(RING_BYTES, Uint8Array);
    const ring = new SpscRing(storage, Uint8Array);
    init.shared = storage;
    const chunk = new Uint8Array(Math.floor(CHUNK / RECORD_SIZE) * RECORD_SIZE);
    const words = new Uint32Array(chunk.buffer);
    let bytes = 0;
    consume = async () => {
      while (!verifier.done) {
        // the producer pushes whole records, so what is readable is a whole number of them
        const n = ring.pop(chunk);
        bytes += n;
        for (let w = 0; w < n >> 2; w += step) check(words, w);
        if (n === 0) await sleep(DRAIN_SLEEP_MS);
        tick();
      }
    };
    counted = () => ({ records: bytes / RECORD_SIZE - 1, wakeups: null });
    cleanup = () => {};
  }

  const { worker, next } = workerOf(side.contender);
  let ok = false;
  try {
    worker.postMessage(init);
    await next('the producer starting');
    const t0 = performance.now();
    deadline = t0 + runMs;
    Atomics.store(ctl, GO, 1);
    Atomics.notify(ctl, GO); // pairs with the wait on GO in producer.mjs
    await withTimeout(consume(), runMs + GRACE_MS, 'the consumer receiving the END record');
    const elapsedMs = performance.now() - t0;
    if (verifier.error !== null) throw new Error(verifier.error);
    await next('the producer finishing');
    const written = Atomics.load(ctl, WRITTEN);
    if (written !== verifier.records) {
      throw new Error(`the producer wrote ${written} records but the consumer checked ${verifier.records}`);
    }
    const own = counted();
    if (own.records !== verifier.records) {
      throw new Error(`${side.contender} counted ${own.records} records, the consumer checked ${verifier.records}`);
    }
    ok = true;
    return {
      records: verifier.records,
      elapsedMs,
      rate: (verifier.records * 1000) / elapsedMs,
      drops: Atomics.load(ctl, DROPS),
      wakeups: own.wakeups,
    };
  } finally {
    Atomics.store(ctl, STOP, 1);
    cleanup();
    if (!ok) dropWorker(side.contender);
  }
}

/** The ratios of `pairs` over `rounds` rounds of `runMs` runs, as bench/headline.ts takes them. */
async function headline({ rounds, runMs, warmup, pairs }) {
  const errors = [];
  const results = pairs.map((p) => ({
    name: p.name,
    detail: p.detail,
    a: { side: p.a, contender: SIDES[p.a].contender, about: SIDES[p.a].about, runs: [] },
    b: { side: p.b, contender: SIDES[p.b].contender, about: SIDES[p.b].about, runs: [] },
    ratios: [],
    ratio: null,
    error: null,
  }));
  if (warmup) {
    for (const key of new Set(pairs.flatMap((p) => [p.a, p.b]))) {
      await progress(`warm-up · ${key}`);
      try {
        await runOnce(key, runMs / 2);
      } catch (err) {
        errors.push(`warm-up ${key}: ${message(err)}`);
      }
    }
  }
  for (let round = 0; round < rounds; round++) {
    for (const result of results) {
      if (result.error !== null) continue;
      await progress(`round ${round + 1}/${rounds} · ${result.name}`);
      try {
        const got = {};
        for (const part of order(round)) got[part] = await runOnce(result[part].side, runMs);
        result.a.runs.push(got.a);
        result.b.runs.push(got.b);
        result.ratios.push(got.a.rate / got.b.rate);
      } catch (err) {
        result.error = message(err);
        errors.push(`${result.name}: ${result.error}`);
      }
    }
  }
  for (const r of results) {
    if (r.error === null && r.ratios.length > 0) r.ratio = spread(r.ratios);
    for (const part of [r.a, r.b]) {
      part.recordsPerSec = part.runs.length > 0 ? median(part.runs.map((x) => x.rate)) : null;
      part.records = part.runs.reduce((sum, x) => sum + x.records, 0);
    }
  }
  return { results, errors };
}

async function main() {
  const q = new URLSearchParams(location.search);
  const rounds = Number(q.get('rounds') ?? 11);
  const runMs = Number(q.get('ms') ?? 400);
  const warmup = q.get('warmup') !== '0';
  const chosen = q.get('pairs');
  const pairs = chosen === null ? PAIRS : chosen.split(',').map((i) => PAIRS[Number(i)]);
  const engine = {
    userAgent: navigator.userAgent,
    crossOriginIsolated: self.crossOriginIsolated === true,
    sharedArrayBuffer: typeof SharedArrayBuffer === 'function',
    waitAsync: typeof Atomics.waitAsync === 'function',
    hardwareConcurrency: navigator.hardwareConcurrency ?? null,
  };
  await progress(
    `${engine.userAgent} · isolated ${engine.crossOriginIsolated} · Atomics.waitAsync ${engine.waitAsync ? 'yes' : 'no (stand-in worker)'}`,
  );
  const began = performance.now();
  const { results, errors } = await headline({ rounds, runMs, warmup, pairs });
  for (const { worker } of pool.values()) worker.terminate();
  pool.clear();
  return {
    engine,
    rounds,
    runMs,
    recordSize: RECORD_SIZE,
    ringBytes: RING_BYTES,
    seconds: (performance.now() - began) / 1000,
    pairs: results,
    errors,
  };
}

addEventListener('error', (e) => progress(`uncaught: ${e.message} (${e.filename}:${e.lineno})`));
addEventListener('unhandledrejection', (e) => progress(`unhandled rejection: ${e.reason?.stack ?? e.reason}`));
try {
  await post('/result', await main());
} catch (err) {
  await post('/result', { fatal: `the benchmark did not run: ${err?.stack ?? err}` });
}
