// The user-level suite every engine runs (Node, Deno, Bun, Chromium, Firefox,
// WebKit): plain ESM that imports the installed package as a user does, with
// producers in real workers (workers.mjs starts them) and the consumer on
// this thread. Each case is bounded in time; runSuite() reports each case's
// outcome instead of throwing, so an engine that lacks something fails the
// cases that need it, saying what was missing.
import {
  BPF_RB_AVAIL_DATA,
  createReadableStream,
  readJSON,
  readRecords,
  readText,
  RingBuffer,
  RingBufferConsumer,
  RingBufferRangeError,
  RingBufferStateError,
  RingBufferTypeError,
  writeText,
} from 'wasm-ringbuf';
import { fillRecord, recordChecker, recordLength, textRecord } from './records.mjs';
import { mainThreadMayBlock, nodeLike, startWorker } from './workers.mjs';

const PRODUCER = new URL('./producer.mjs', import.meta.url);

/** This file's bare name, as the engine resolved it. */
export const SUITE_FILE = new URL(import.meta.url).pathname.split('/').pop();

// ---- helpers ---------------------------------------------------------------

/** Rejects if `promise` has not settled within `ms`: a bound on a wait, not a wait. */
function within(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not settled within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** An error as text: name, code and message (not every engine's `stack` has them), then the stack. */
function describeError(err) {
  if (typeof err !== 'object' || err === null) return String(err);
  const head = `${err.name}${err.code ? ` [${err.code}]` : ''}: ${err.message}`;
  const stack = String(err.stack ?? '');
  const own = `${err.name}: ${err.message}`;
  return `${head}\n${stack.startsWith(own) ? stack.slice(own.length + 1) : stack}`.trimEnd();
}

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

function equal(actual, expected, what) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}: got ${a}, expected ${e}`);
}

/** Checks that `err` is a coded error of the package: its class, the built-in it extends, its name and code. */
function checkCoded(err, Class, Builtin, code, what) {
  if (!(err instanceof Class)) {
    throw new Error(`${what}: expected a ${Class.name} (${code}), got ${err?.name}: ${err?.message ?? err}`);
  }
  assert(err instanceof Builtin, `${what}: a ${Class.name} that is not a ${Builtin.name}`);
  equal(err.name, Class.name, `${what}: err.name`);
  equal(err.code, code, `${what}: err.code`);
  assert(typeof err.message === 'string' && err.message.length > 10, `${what}: no message`);
}

function throws(fn, Class, Builtin, code, what) {
  try {
    fn();
  } catch (err) {
    return checkCoded(err, Class, Builtin, code, what);
  }
  throw new Error(`${what}: did not throw (expected ${code})`);
}

async function rejects(promise, Class, Builtin, code, what) {
  try {
    await within(promise, 5_000, what);
  } catch (err) {
    return checkCoded(err, Class, Builtin, code, what);
  }
  throw new Error(`${what}: did not reject (expected ${code})`);
}

function record(tag, seq) {
  const bytes = new Uint8Array(recordLength(tag, seq));
  fillRecord(bytes, tag, seq);
  return bytes;
}

/**
 * Polls `consumer` until `finished` settles (every producer reported), then
 * reads what was committed by then; rethrows a producer's failure.
 */
async function pollUntil(consumer, finished, ms, what) {
  let settled = false;
  finished.then(
    () => (settled = true),
    () => (settled = true),
  );
  const deadline = performance.now() + ms;
  while (!settled) {
    if (performance.now() > deadline) throw new Error(`${what}: the producers had not finished after ${ms} ms`);
    await consumer.poll(20);
  }
  const reports = await finished;
  consumer.consume();
  return reports;
}

/** What one case starts, undone when it ends however it ends. */
class Scope {
  #workers = [];
  #cleanups = [];

  /** Runs `job` of producer.mjs in a new worker; resolves with its report, rejects with its failure. */
  async produce(job, data, timeoutMs = 20_000) {
    const message = await this.worker(job, data, timeoutMs);
    if (!message.ok) {
      const { name, code, message: text, stack } = message.error;
      throw new Error(`the '${job}' worker failed: ${describeError({ name, code, message: text, stack })}`);
    }
    return message;
  }

  /** As produce(), resolving with the report whatever it says. */
  async worker(job, data, timeoutMs = 20_000) {
    const worker = await startWorker(PRODUCER, { job, ...data });
    this.#workers.push(worker);
    return worker.next(timeoutMs, `the '${job}' worker's report`);
  }

  /** Starts `job` of producer.mjs in a new worker and returns it, to read its messages one by one. */
  async start(job, data) {
    const worker = await startWorker(PRODUCER, { job, ...data });
    this.#workers.push(worker);
    return worker;
  }

  /** Calls `fn` when the case ends. */
  defer(fn) {
    this.#cleanups.push(fn);
  }

  async close() {
    for (const fn of this.#cleanups.reverse()) {
      try {
        const result = fn();
        if (typeof result?.then === 'function') result.then(null, () => {});
      } catch {}
    }
    await Promise.all(this.#workers.map((w) => within(w.terminate(), 5_000, 'terminate()').catch(() => {})));
  }
}

// ---- the cases -------------------------------------------------------------

const PRODUCER_RECORDS = 20_000;

async function recordsFromWorkers(scope) {
  // room for every record, so the README's reserve() never finds the ring full
  const rb = await RingBuffer.create({ size: 1 << 21 });
  scope.defer(() => rb.close());
  const check = recordChecker([0, 1], PRODUCER_RECORDS);
  const consumer = new RingBufferConsumer(rb, check.record);
  scope.defer(() => consumer.close());
  const finished = Promise.all(
    [0, 1].map((tag) => scope.produce('reserve', { handle: rb.handle, tag, count: PRODUCER_RECORDS })),
  );
  const reports = await pollUntil(consumer, finished, 20_000, 'two producers');
  check.finish();
  equal(
    reports.map((r) => r.dropped),
    [0, 0],
    'records each producer found no room for',
  );
  equal(rb.stats().dropped, 0, 'stats().dropped');
  assert(reports[0].producerId !== reports[1].producerId, `both producers got id ${reports[0].producerId}`);
  equal(rb.query(BPF_RB_AVAIL_DATA), 0, 'bytes left in the ring');
}

async function producersWaitForRoom(scope) {
  // a 4 KiB ring holds about 130 of these records and each producer writes
  // 1,500 without a drop: neither can finish without waiting for the consumer
  const count = 1_500;
  const rb = await RingBuffer.create({ size: 4096 });
  scope.defer(() => rb.close());
  const check = recordChecker([0, 1], count);
  const consumer = new RingBufferConsumer(rb, check.record);
  scope.defer(() => consumer.close());
  const finished = Promise.all([
    scope.produce('blocking', { handle: rb.handle, tag: 0, count, timeoutMs: 15_000 }),
    scope.produce('async', { handle: rb.handle, tag: 1, count, timeoutMs: 15_000 }),
  ]);
  // nothing is consumed until both producers are asleep on a full ring: while
  // none is consumed, a producer that waits stays asleep, so two waits are two producers
  const deadline = performance.now() + 10_000;
  while (rb.stats().roomWaits < 2) {
    assert(
      performance.now() < deadline,
      `the producers did not both wait for room within 10 s (roomWaits ${rb.stats().roomWaits})`,
    );
    await Promise.race([finished, new Promise((resolve) => setTimeout(resolve, 2))]);
  }
  assert(rb.query(BPF_RB_AVAIL_DATA) > 4096 - 64, `the ring was not full: ${rb.query(BPF_RB_AVAIL_DATA)} bytes`);
  await pollUntil(consumer, finished, 20_000, 'the waiting producers');
  check.finish();
  equal(rb.stats().dropped, 0, 'stats().dropped');
  const waits = rb.stats().roomWaits;
  assert(waits >= 2, `roomWaits is ${waits}`);
}

async function closeConsumerAndProducer(scope) {
  const rb = await RingBuffer.create({ size: 1 << 16 });
  scope.defer(() => rb.close());

  // the consumer: close() ends a pending poll at once and gives the ring up
  const first = new RingBufferConsumer(rb, () => {
    throw new Error('the first consumer was handed a record');
  });
  scope.defer(() => first.close());
  throws(
    () => new RingBufferConsumer(rb, () => {}),
    RingBufferStateError,
    Error,
    'ERR_RINGBUF_CONSUMER_TAKEN',
    'a second consumer while the first is open',
  );
  const pending = first.poll(-1);
  first.close();
  equal(await within(pending, 5_000, 'poll(-1) pending when close() was called'), 0, 'what that poll returned');
  throws(() => first.consume(), RingBufferStateError, Error, 'ERR_RINGBUF_CLOSED', 'consume() after close()');

  // a producer in a worker: writes, closes, and may not write again; its id is given back
  const done = await scope.produce('close', { handle: rb.handle, tag: 5, count: 50 });
  equal(done.afterClose, { name: 'RingBufferStateError', code: 'ERR_RINGBUF_CLOSED' }, 'reserve() after close()');
  throws(
    () => rb.reapProducer(done.producerId),
    RingBufferRangeError,
    RangeError,
    'ERR_RINGBUF_PRODUCER',
    `reapProducer(${done.producerId}) of a producer that closed`,
  );

  // what it wrote stayed in the ring for the next consumer
  const check = recordChecker([5], 50);
  const second = new RingBufferConsumer(rb, check.record);
  scope.defer(() => second.close());
  equal(second.consume(), 50, 'records the second consumer read');
  check.finish();

  // a producer on this thread
  const producer = await RingBuffer.attach(rb.handle);
  assert(producer.producerId !== rb.producerId, 'an attached producer shares its id with the creator');
  equal(producer.output(record(7, 0)), true, 'output() before close()');
  producer.close();
  throws(
    () => producer.output(record(7, 1)),
    RingBufferStateError,
    Error,
    'ERR_RINGBUF_CLOSED',
    'output() after close()',
  );
  const after = recordChecker([7], 1);
  second.close();
  const third = new RingBufferConsumer(rb, after.record);
  scope.defer(() => third.close());
  equal(third.consume(), 1, 'records after the producer closed');
  after.finish();
}

async function readRecordsIterator(scope) {
  // an 8 KiB ring: the JSON producer waits for room while the loop reads
  const rb = await RingBuffer.create({ size: 8192 });
  scope.defer(() => rb.close());
  const count = 3_000;
  const job = scope.produce('json', { handle: rb.handle, tag: 2, count, timeoutMs: 15_000 });
  const records = readRecords(rb, { map: readJSON, until: job });
  scope.defer(() => records.close());
  let seq = 0;
  for await (const value of records) {
    equal(value, { tag: 2, seq, text: 'é'.repeat(seq % 7) }, `record ${seq}`);
    seq++;
  }
  await job;
  equal(seq, count, 'records read');
  equal(records.lost, 0, 'records lost');

  // a break keeps the rest in the ring, in order, for the next reader
  for (let i = 0; i < 10; i++) equal(rb.output(record(9, i)), true, `output() of record ${i}`);
  const check = recordChecker([9], 10);
  const head = readRecords(rb);
  scope.defer(() => head.close());
  let taken = 0;
  for await (const data of head) {
    check.record(data);
    if (++taken === 3) break;
  }
  const rest = readRecords(rb, { until: Promise.resolve() });
  scope.defer(() => rest.close());
  for await (const data of rest) check.record(data);
  check.finish();
}

async function streams(scope) {
  const rb = await RingBuffer.create({ size: 4096 });
  scope.defer(() => rb.close());
  const count = 2_000;
  // the worker's WritableStream waits for room: its backpressure is this reader's pace
  const job = scope.produce('writable', { handle: rb.handle, tag: 4, count });
  const reader = createReadableStream(rb, { map: readText, until: job }).getReader();
  scope.defer(() => reader.cancel());
  let seq = 0;
  for (;;) {
    const { done, value } = await within(reader.read(), 10_000, `read() of record ${seq}`);
    if (done) break;
    equal(value, textRecord(4, seq), `record ${seq}`);
    seq++;
  }
  await job;
  equal(seq, count, 'records read from the stream');

  // cancel() leaves the records not read in the ring
  for (let i = 0; i < 10; i++) equal(writeText(rb, textRecord(6, i)), true, `writeText() of record ${i}`);
  const partial = createReadableStream(rb, { map: readText }).getReader();
  for (let i = 0; i < 4; i++) {
    const { done, value } = await within(partial.read(), 5_000, `read() of record ${i}`);
    equal([done, value], [false, textRecord(6, i)], `record ${i} of the stream cancelled after 4`);
  }
  await within(partial.cancel(), 5_000, 'cancel()');
  const rest = [];
  for await (const text of readRecords(rb, { map: readText, until: Promise.resolve() })) rest.push(text);
  equal(
    rest,
    [4, 5, 6, 7, 8, 9].map((i) => textRecord(6, i)),
    'the records read after cancel()',
  );
}

async function codedErrors(scope) {
  await rejects(
    RingBuffer.create({ size: 1000 }),
    RingBufferRangeError,
    RangeError,
    'ERR_RINGBUF_SIZE',
    'create({ size: 1000 })',
  );
  await rejects(
    RingBuffer.create({ size: '4096' }),
    RingBufferTypeError,
    TypeError,
    'ERR_RINGBUF_TYPE',
    "create({ size: '4096' })",
  );
  await rejects(
    RingBuffer.attach({ kind: 'something else' }),
    RingBufferTypeError,
    TypeError,
    'ERR_RINGBUF_HANDLE',
    'attach() of a handle that is not one',
  );

  const rb = await RingBuffer.create({ size: 4096, maxRecord: 256 });
  scope.defer(() => rb.close());
  throws(() => rb.reserve(257), RingBufferRangeError, RangeError, 'ERR_RINGBUF_RANGE', 'reserve(maxRecord + 1)');
  throws(
    () => rb.output(new Uint8Array(8), 4),
    RingBufferRangeError,
    RangeError,
    'ERR_RINGBUF_FLAGS',
    'output() with flag 4',
  );
  throws(() => rb.output('text'), RingBufferTypeError, TypeError, 'ERR_RINGBUF_TYPE', 'output() of a string');
  throws(() => rb.query(12345), RingBufferRangeError, RangeError, 'ERR_RINGBUF_QUERY', 'query(12345)');
  const r = rb.reserve(8);
  assert(r !== null, 'reserve(8) in an empty ring gave null');
  r.data.set([1, 2, 3, 4, 5, 6, 7, 8]);
  r.submit();
  throws(() => r.submit(), RingBufferStateError, Error, 'ERR_RINGBUF_COMMITTED', 'submit() twice');
  if (mainThreadMayBlock) {
    const blocking = rb.reserveBlocking(8, 0);
    assert(blocking !== null, 'reserveBlocking(8, 0) in a ring with room gave null');
    blocking.discard();
  } else {
    throws(
      () => rb.reserveBlocking(8, 10),
      RingBufferStateError,
      Error,
      'ERR_RINGBUF_CANNOT_BLOCK',
      "reserveBlocking() on a page's main thread",
    );
  }

  // an error in a worker carries its class name and code too
  const report = await scope.worker('reserve', { handle: { ...rb.handle, version: -1 }, tag: 0, count: 1 });
  equal(
    [report.ok, report.error?.name, report.error?.code],
    [false, 'RingBufferTypeError', 'ERR_RINGBUF_HANDLE'],
    'attach() of a handle from another version, in a worker',
  );

  // none of the refused calls touched the ring: the one record submitted is all there is
  const seen = [];
  const consumer = new RingBufferConsumer(rb, (data) => seen.push([...data]));
  scope.defer(() => consumer.close());
  consumer.consume();
  equal(seen, [[1, 2, 3, 4, 5, 6, 7, 8]], 'the records in the ring after the refused calls');
  equal(rb.stats().dropped, 0, 'stats().dropped');
}

/** The cases, in the order they run. */
async function reapedWhileRunning(scope) {
  // a producer reaped while its worker still runs (what Deno leaves after an exit) writes nothing more
  const rb = await RingBuffer.create({ size: 8192 });
  scope.defer(() => rb.close());
  const rounds = 4;
  const after = 20;
  const check = recordChecker([10, 11, 12, 13], 0);
  const seen = new Map();
  const consumer = new RingBufferConsumer(rb, (data, lost) => {
    check.record(data, lost);
    const tag = new DataView(data.buffer, data.byteOffset).getUint32(0, true);
    seen.set(tag, (seen.get(tag) ?? 0) + 1);
  });
  scope.defer(() => consumer.close());
  for (let round = 0; round < rounds; round++) {
    const tag = 10 + round;
    const worker = await scope.start('zombie', { handle: rb.handle, tag, after });
    const started = await worker.next(10_000, `producer ${tag} starting`);
    assert(started.ok, `producer ${tag} failed to start: ${started.error?.message}`);
    // reaped while it writes: after some records, somewhere between two or inside one
    const deadline = performance.now() + 10_000;
    while ((seen.get(tag) ?? 0) < 100 + round * 50) {
      assert(performance.now() < deadline, `producer ${tag} wrote ${seen.get(tag) ?? 0} records in 10 s`);
      await consumer.poll(20);
    }
    rb.reapProducer(started.producerId);
    const done = await worker.next(10_000, `producer ${tag} after its reap`);
    assert(done.ok, `producer ${tag} failed: ${done.error?.message}`);
    equal(done.stoppedBy, 'ERR_RINGBUF_REAPED', `what stopped producer ${tag}`);
    equal(done.codes, Array(after).fill('ERR_RINGBUF_REAPED'), `producer ${tag}'s calls after its reap`);
    consumer.consume();
    // every record it submitted was delivered, whole and in order, and none after
    equal(seen.get(tag), done.last + 1, `records of producer ${tag} delivered`);
  }
  equal(check.faults, [], 'faults in the records delivered');
  equal(rb.query(BPF_RB_AVAIL_DATA), 0, 'bytes left in the ring');
}

export const CASES = [
  { name: 'records from two worker producers, each one checked', run: recordsFromWorkers },
  { name: 'producers wait for room: reserveBlocking() and reserveAsync()', run: producersWaitForRoom },
  { name: 'close() of the consumer and of producers', run: closeConsumerAndProducer },
  { name: 'readRecords(): every record, and a break leaves the rest', run: readRecordsIterator },
  { name: 'createReadableStream() and createWritableStream(), cancel() leaves the rest', run: streams },
  { name: 'coded errors: class, name and code', run: codedErrors },
  { name: 'a producer reaped while it still runs writes nothing more', run: reapedWhileRunning },
];

/** What the engine is, and what it has that the package needs. */
function describeEngine() {
  const g = globalThis;
  return {
    userAgent: g.navigator?.userAgent ?? null,
    versions: nodeLike ? { node: process.versions.node, deno: g.Deno?.version?.deno, bun: g.Bun?.version } : null,
    crossOriginIsolated: g.crossOriginIsolated ?? null,
    sharedArrayBuffer: typeof SharedArrayBuffer === 'function',
    waitAsync: typeof Atomics.waitAsync === 'function',
  };
}

/** Runs every case, one after another; never throws. `log(line)` hears each outcome as it comes. */
export async function runSuite({ log = () => {}, caseTimeoutMs = 20_000 } = {}) {
  const results = [];
  for (const { name, run } of CASES) {
    const scope = new Scope();
    const start = performance.now();
    let error = null;
    try {
      await within(run(scope), caseTimeoutMs, name);
    } catch (err) {
      error = describeError(err);
    } finally {
      await scope.close();
    }
    const ms = Math.round(performance.now() - start);
    results.push({ name, ok: error === null, ms, error });
    log(`${error === null ? 'ok' : 'FAILED'} ${name} (${ms} ms)${error === null ? '' : `\n${error}`}`);
  }
  return { file: SUITE_FILE, engine: describeEngine(), results };
}
