// The one harness every cross-thread cell runs through: what a contender is
// (after the kernel's tools/testing/selftests/bpf/benchs/bench_ringbufs.c:
// name, validate, setup, producer, consumer, measure, report), the control
// block behind the start barrier, the producer loop run in each worker, the
// record checker, and run(), which times one run from the barrier to the
// last record.
//
// A record is `recordSize` bytes (a multiple of 8): word 0 the producer's
// index, word 1 its sequence number (u32 words in the platform's byte order),
// then a fixed pattern; in paced runs bytes 8..15 carry the send time (an f64
// of clock()). Each producer ends its stream with one record whose sequence
// number is END, committed with BPF_RB_FORCE_WAKEUP.

import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { BPF_RB_FORCE_WAKEUP, BPF_RB_NO_WAKEUP } from 'wasm-ringbuf';
import { calibrateMain, calibrateWorker, calibrationBuffer, clock, percentile, sleep, withTimeout } from './util.js';

/**
 * When a producer asks for the consumer to be woken: `'adaptive'` is the
 * kernel's default rule (flags 0: wake only a consumer that has caught up),
 * `'NO_WAKEUP'` is BPF_RB_NO_WAKEUP on every record (the consumer drains and
 * sleeps 1 ms when it finds nothing), `'FORCE_WAKEUP'` is
 * BPF_RB_FORCE_WAKEUP on every record (request/response).
 */
export type Wakeup = 'adaptive' | 'NO_WAKEUP' | 'FORCE_WAKEUP';

/**
 * How producers send: `'free'` as fast as they can; `{ rate }` records per
 * second each, paced per 1 ms tick, each record stamped with its send time
 * and the producer timing its own writes; `'b2b'` back-to-back (the
 * kernel's `--rb-b2b`): one record per request of the consumer, which asks
 * for the next once it has the last.
 */
export type Pace = 'free' | { rate: number } | 'b2b';

/** One cell's settings, the same for every contender. */
export interface BenchConfig {
  /** The scenario's name, the first part of the cell's label. */
  scenario: string;
  /** Producer worker threads. */
  producers: number;
  /** Bytes per record, producer id and sequence number included. */
  recordSize: number;
  wakeup: Wakeup;
  pace: Pace;
  /** Bytes of buffering each contender gets (the ring's size). */
  ringBytes: number;
  /** Records to send in all, split evenly between the producers. */
  records: number;
  /** Producers stop early once the run has lasted this long. */
  timeLimitMs: number;
}

/** What one run of one contender measured, at the consumer. */
export interface RunResult {
  /** Records the consumer received and checked (END records not counted). */
  records: number;
  /** From the start barrier to the last record received. */
  elapsedMs: number;
  /** Times a producer found no room (it slept 50 µs and tried again; a paced producer drops the record). */
  drops: number;
  /** Wakeups the ring(s) sent to the sleeping consumer, or null where the contender has none. */
  wakeups: number | null;
  /** Whether the time limit stopped the producers before they sent their quota. */
  stopped: boolean;
  /** Paced runs: µs a producer spent per attempted record inside its write calls (the send-time stamp included). */
  producerUsPerRecord: number | null;
  /** Paced runs: send → consumer callback; back-to-back: request → response (µs; the first 10 % of records left out). */
  latency: { p50Us: number; p99Us: number } | null;
}

/** The producer side of a contender, in its worker: copies `record` in and commits it with `flags`; false when there is no room now. */
export interface Writer {
  write(record: Uint8Array, flags: number): boolean;
  /** Sends what the writer holds back (batching contenders); called after each tick, response and the END record. */
  flush?(): void;
}

/** What a producer worker receives. */
export interface ProducerInit {
  /** The name of the contender whose producer() builds this writer. */
  contender: string;
  /** This producer's index, 0 .. producers - 1, written in word 0 of its records. */
  index: number;
  /** Records to send unless STOP comes first. */
  quota: number;
  recordSize: number;
  wakeup: Wakeup;
  pace: Pace;
  control: SharedArrayBuffer;
  /** Paced runs: this producer's clock calibration buffer (util.ts), answered before the barrier. */
  calibration: SharedArrayBuffer | null;
  /** Records a producer may have in flight where nothing else bounds them: as many as the ring holds. */
  window: number;
  /** The `shared` part of the contender's setup() (structured-cloned). */
  shared: unknown;
  /** Back-to-back: requests come as messages on `port` (postMessage ping-pong) instead of on the TRIGGER word. */
  requestByMessage: boolean;
  /** This run's channel to the consumer, for contenders that send by message (set by run()). */
  port?: MessagePort;
}

/** What a contender counted itself after a run: records delivered, records refused, wakeups sent. */
export interface Counts {
  records: number;
  drops: number;
  wakeups: number | null;
}

/**
 * A benchmark contender, in the shape of the kernel's bench_ringbufs
 * entries. `setup` runs on the main thread before the workers start;
 * `producer` in each worker; `consumer` on the main thread until every END
 * has arrived, handing each record to `session.record()`; `measure` reads
 * the contender's own counters once the producers are done; `report` is
 * the contender's note on a result, for the tables: how it ran the cell.
 */
export interface Contender<S = unknown> {
  readonly name: string;
  /** Why this contender cannot run `config` meaningfully, or null when it can. */
  validate(config: BenchConfig): string | null;
  setup(config: BenchConfig): Promise<{ state: S; shared: unknown }>;
  producer(init: ProducerInit): Writer | Promise<Writer>;
  consumer(state: S, config: BenchConfig, session: Session): Promise<void>;
  measure(state: S, session: Session): Counts;
  report(result: RunResult, config: BenchConfig): string;
  /** Back-to-back: the consumer asks by postMessage, not by Atomics.notify. */
  readonly requestByMessage?: boolean;
}

/** Why no contender can run `config`: back-to-back has one requester and one responder. Every validate() starts here. */
export function commonRefusal(config: BenchConfig): string | null {
  return config.pace === 'b2b' && config.producers > 1
    ? 'back-to-back is one request and one response at a time: one producer'
    : null;
}

/** Sequence number of the record that ends a producer's stream. */
export const END = 0xffffffff;

// Control block: an Int32Array over a SharedArrayBuffer seen by the main
// thread and every producer.
const READY = 0; // producers waiting at the barrier
const GO = 1; // 1: start producing
const STOP = 2; // 1: the time limit has passed; send the END record now
const NAP = 3; // never written: a producer backs off by sleeping on it
const TRIGGER = 4; // back-to-back: requests the consumer has made
const FIRST = 8; // first per-producer slot
const SLOT = 4; // words per producer: WRITTEN, DROPS, ACK
const WRITTEN = 0;
const DROPS = 1;
const ACK = 2;
const MAX_PRODUCERS = 16;
/** Byte offset, after the Int32 words, of one f64 per producer: the milliseconds its paced writes took. */
const BUSY_BYTES = 4 * (FIRST + MAX_PRODUCERS * SLOT);

/** How long a producer that found no room sleeps before it tries again: short, but never a spin (2 cores). */
const BACKOFF_MS = 0.05;
/** How long a draining consumer sleeps when it finds nothing. */
export const DRAIN_SLEEP_MS = 1;
/** Time allowed for workers to start, and past the time limit for the consumer to finish. */
const GRACE_MS = 15_000;

/** The commit flags of `wakeup`. */
export function flagsOf(wakeup: Wakeup): number {
  return wakeup === 'NO_WAKEUP' ? BPF_RB_NO_WAKEUP : wakeup === 'FORCE_WAKEUP' ? BPF_RB_FORCE_WAKEUP : 0;
}

/** The stride a record of `recordSize` bytes takes in the BPF ring: 8-byte header, rounded to 8. */
export function ringStride(recordSize: number): number {
  return (recordSize + 15) & ~7;
}

/**
 * A producer's record, ready to copy: `stamp(seq)` writes the sequence
 * number into it and returns its bytes. Every contender copies these bytes
 * once per record, wherever its records go.
 */
export class RecordTemplate {
  readonly bytes: Uint8Array;
  readonly #words: Uint32Array;
  readonly #sent: Float64Array;

  constructor(recordSize: number, index: number) {
    this.bytes = new Uint8Array(recordSize);
    for (let i = 8; i < recordSize; i++) this.bytes[i] = (i * 31 + 7) & 0xff;
    this.#words = new Uint32Array(this.bytes.buffer, 0, 2);
    this.#words[0] = index;
    this.#sent = new Float64Array(this.bytes.buffer, 8, 1);
  }

  /** The record with sequence number `seq`. */
  stamp(seq: number): Uint8Array {
    this.#words[1] = seq;
    return this.bytes;
  }

  /** Writes the send time `ms` (a clock() reading) into bytes 8..15. */
  sentAt(ms: number): void {
    this.#sent[0] = ms;
  }
}

/** Index in the control block of the count of producer `index`'s records the consumer has taken. */
export function ackWord(index: number): number {
  return FIRST + index * SLOT + ACK;
}

/**
 * The producer loop, run in each worker: waits at the barrier, sends its
 * quota (or stops early on STOP), sleeping 50 µs and trying again whenever
 * there is no room, counting each refusal as a drop, then sends its END
 * record. Paced, it sends what is due each 1 ms tick, timing its writes,
 * and drops a refused record instead; back-to-back, it answers each request
 * with one record.
 */
export async function runProducer(init: ProducerInit, writer: Writer): Promise<void> {
  const ctl = new Int32Array(init.control);
  const record = new RecordTemplate(init.recordSize, init.index);
  const flags = flagsOf(init.wakeup);
  const { pace, quota } = init;
  let drops = 0;
  const send = (seq: number, f: number): void => {
    while (!writer.write(record.stamp(seq), f)) {
      drops++;
      Atomics.wait(ctl, NAP, 0, BACKOFF_MS);
    }
  };
  let busyMs = 0;
  if (init.calibration !== null) calibrateWorker(init.calibration);
  atBarrier(ctl);
  let seq = 0;
  if (pace === 'free') {
    for (; seq < quota; seq++) {
      if ((seq & 255) === 0 && Atomics.load(ctl, STOP) !== 0) break;
      send(seq, flags);
    }
  } else if (pace === 'b2b') {
    // pairs with Session.#request(): a message on the port (one listener for the whole run, so that
    // none arrives while nobody listens), or an add and notify on TRIGGER
    let asked = 0;
    let wake: (() => void) | null = null;
    if (init.requestByMessage) init.port!.on('message', () => (asked++, wake?.()));
    const request = (done: number): Promise<void> | void => {
      if (init.requestByMessage) return asked > done ? undefined : new Promise((resolve) => (wake = resolve));
      while (Atomics.load(ctl, TRIGGER) === done) Atomics.wait(ctl, TRIGGER, done, 1000);
    };
    for (; seq < quota; seq++) {
      await request(seq);
      if (Atomics.load(ctl, STOP) !== 0) break;
      send(seq, flags);
      writer.flush?.();
    }
  } else {
    // Per 1 ms tick: the records due by now, back to back, each write timed
    // from the clock reading that stamps it to the next; then sleep to the tick.
    const t0 = performance.now();
    for (let attempts = 0; attempts < quota && Atomics.load(ctl, STOP) === 0; ) {
      const due = Math.min(quota, Math.floor(((performance.now() - t0) * pace.rate) / 1000));
      for (let t = performance.now(); attempts < due; attempts++) {
        record.sentAt(performance.timeOrigin + t);
        const ok = writer.write(record.stamp(seq), flags);
        const t1 = performance.now();
        busyMs += t1 - t;
        t = t1;
        if (ok) seq++;
        else drops++;
      }
      writer.flush?.();
      const wait = t0 + Math.floor(performance.now() - t0) + 1 - performance.now();
      if (wait > 0) Atomics.wait(ctl, NAP, 0, wait);
    }
  }
  send(END, BPF_RB_FORCE_WAKEUP);
  writer.flush?.();
  // read by run() once this worker has said 'done' (worker.ts)
  const slot = FIRST + init.index * SLOT;
  new Float64Array(init.control, BUSY_BYTES)[init.index] = busyMs;
  Atomics.store(ctl, slot + WRITTEN, seq);
  Atomics.store(ctl, slot + DROPS, drops);
}

/**
 * Checks every record the consumer receives: each producer's sequence
 * numbers arrive complete and in order, then one END. The first
 * contradiction is kept in `error` and ends the run.
 */
export class Verifier {
  readonly producers: number;
  /** Records received and checked, END records not counted. */
  records = 0;
  /** END records received. */
  ends = 0;
  /** The first contradiction found, or null. */
  error: string | null = null;
  readonly #next: Uint32Array;
  readonly #ended: Uint8Array;

  constructor(producers: number) {
    this.producers = producers;
    this.#next = new Uint32Array(producers);
    this.#ended = new Uint8Array(producers);
  }

  /** Checks one record: producer index `id`, sequence number `seq`. */
  record(id: number, seq: number): void {
    if (seq !== END && seq === this.#next[id] && this.#ended[id] === 0) {
      this.#next[id] = seq + 1;
      this.records++;
    } else if (seq === END && this.#ended[id] === 0) {
      this.#ended[id] = 1;
      this.ends++;
    } else if (this.error === null) {
      this.error =
        id < this.producers
          ? `producer ${id}: got sequence ${seq === END ? 'END' : seq} where ${this.#ended[id] ? 'nothing (its stream had ended)' : this.#next[id]} was due`
          : `a record names producer ${id}, but there are ${this.producers}`;
    }
  }

  /** True once every producer's END has arrived, or a contradiction was found. */
  get done(): boolean {
    return this.ends === this.producers || this.error !== null;
  }

  /** Records received from producer `id`. */
  received(id: number): number {
    return this.#next[id]!;
  }
}

/** The consumer's view of a run in progress: consumer loops call record() per record and tick() once per pass. */
export class Session {
  /** Each producer's channel to this thread, for contenders that send by message. */
  readonly ports: readonly MessagePort[];
  readonly verifier: Verifier;
  readonly #ctl: Int32Array;
  readonly #deadline: number;
  readonly #b2b: boolean;
  readonly #byMessage: boolean;
  #requests = 0;
  #requestedAt = 0;
  #stopped = false;
  /** Paced runs: each producer's clock offset (its clock − ours, ms). */
  readonly #offsets: Float64Array;
  /** Paced and back-to-back runs: the latencies seen (ms). */
  readonly #latencies: Float64Array | null;
  #n = 0;
  readonly #paced: boolean;
  readonly #sent = new Float64Array(1);
  readonly #sentWords = new Uint32Array(this.#sent.buffer);

  constructor(
    ports: readonly MessagePort[],
    ctl: Int32Array,
    config: BenchConfig,
    offsets: Float64Array,
    byMessage: boolean,
  ) {
    this.ports = ports;
    this.verifier = new Verifier(config.producers);
    this.#ctl = ctl;
    this.#deadline = performance.now() + config.timeLimitMs;
    this.#b2b = config.pace === 'b2b';
    this.#paced = typeof config.pace === 'object';
    this.#byMessage = byMessage;
    this.#offsets = offsets;
    this.#latencies = this.#paced || this.#b2b ? new Float64Array(config.records) : null;
  }

  /** True once every producer's END has arrived, or a record contradicted the sequence. */
  get done(): boolean {
    return this.verifier.done;
  }

  /**
   * Checks the record whose producer index is `words[at]` and sequence
   * number `words[at + 1]`; paced, takes its latency from the send time in
   * `words[at + 2 .. at + 3]`; back-to-back, from the request's time.
   */
  record(words: Uint32Array, at: number): void {
    const id = words[at]!;
    const seq = words[at + 1]!;
    this.verifier.record(id, seq);
    if (this.#latencies === null || seq === END || this.#n >= this.#latencies.length) return;
    if (this.#b2b) {
      this.#latencies[this.#n++] = clock() - this.#requestedAt;
    } else {
      this.#sentWords[0] = words[at + 2]!;
      this.#sentWords[1] = words[at + 3]!;
      this.#latencies[this.#n++] = clock() - this.#sent[0]! + (this.#offsets[id] ?? NaN);
    }
  }

  /** p50 and p99 of the latencies in µs, the first 10 % left out (warm-up); null in free runs. */
  latency(): { p50Us: number; p99Us: number } | null {
    if (this.#latencies === null) return null;
    const kept = this.#latencies.subarray(Math.floor(this.#n / 10), this.#n);
    return { p50Us: percentile(kept, 50) * 1000, p99Us: percentile(kept, 99) * 1000 };
  }

  /**
   * Once per pass of the consumer loop: tells the producers to finish once
   * the time limit has passed; back-to-back, asks for the next record once
   * the last one has arrived.
   */
  tick(): void {
    if (this.#stopped) return;
    if (this.#b2b && this.verifier.records < this.#requests) return;
    if (performance.now() >= this.#deadline) {
      this.#stopped = true;
      Atomics.store(this.#ctl, STOP, 1); // read by the producer loop every 256 records, or after a request
    }
    if (this.#b2b) this.#request();
  }

  /** Back-to-back: the next request (the first is made at the barrier). */
  #request(): void {
    this.#requests++;
    this.#requestedAt = clock();
    if (this.#byMessage) {
      this.ports[0]!.postMessage(null);
    } else {
      Atomics.add(this.#ctl, TRIGGER, 1);
      Atomics.notify(this.#ctl, TRIGGER); // pairs with the wait on TRIGGER in runProducer()
    }
  }

  /** Starts the run: releases the producers; back-to-back, makes the first request. */
  start(): void {
    release(this.#ctl);
    if (this.#b2b) this.#request();
  }

  /** Counts `n` more records of producer `index` as taken, for producers that bound what they have in flight. */
  ack(index: number, n: number): void {
    Atomics.add(this.#ctl, ackWord(index), n);
  }

  /** Refusals the producers counted (readable once they are done). */
  producerDrops(): number {
    let drops = 0;
    for (let index = 0; index < this.ports.length; index++)
      drops += Atomics.load(this.#ctl, FIRST + index * SLOT + DROPS);
    return drops;
  }
}

/**
 * Producer workers, kept between runs, per contender: starting one (a new
 * isolate that loads the package and its contender) takes 30 to 100 ms here,
 * more than a short run of the headline lasts. Each contender's workers run
 * only its producer, so that the producer loop's calls stay monomorphic.
 * Between runs they sleep in their event loop, unref'd.
 */
interface PoolWorker {
  readonly worker: Worker;
  /** Rejects once the worker fails or exits; never resolves. */
  readonly failed: Promise<never>;
}

const pools = new Map<string, PoolWorker[]>();

function spawn(): PoolWorker {
  const worker = new Worker(new URL('./worker.js', import.meta.url));
  const failed = new Promise<never>((_, reject) => {
    worker.on('error', (e) => reject(new Error(`a producer worker failed: ${e.message}`)));
    worker.on('exit', (code) => reject(new Error(`a producer worker exited with code ${code}`)));
  });
  failed.catch(() => {}); // observed through race() in run()
  worker.unref();
  return { worker, failed };
}

/** `n` workers of `contender`'s pool, started where there are fewer. */
function workersOf(contender: string, n: number): PoolWorker[] {
  const pool = pools.get(contender) ?? [];
  while (pool.length < n) pool.push(spawn());
  pools.set(contender, pool);
  return pool.slice(0, n);
}

/** Ends every kept worker (the next run starts new ones). */
export async function closeWorkers(): Promise<void> {
  const all = [...pools.values()].flat();
  pools.clear();
  await Promise.all(all.map((w) => w.worker.terminate()));
}

/** The start barrier, a producer's side: counts itself ready and waits for release(). */
function atBarrier(ctl: Int32Array): void {
  Atomics.add(ctl, READY, 1);
  Atomics.notify(ctl, READY); // pairs with the waitAsync on READY in waitForReady()
  Atomics.wait(ctl, GO, 0); // pairs with the GO store in release()
}

function release(ctl: Int32Array): void {
  Atomics.store(ctl, GO, 1);
  Atomics.notify(ctl, GO); // pairs with the wait on GO in atBarrier()
}

/** Resolves once `producers` workers wait in atBarrier(); throws if they have not within GRACE_MS. */
async function waitForReady(ctl: Int32Array, producers: number): Promise<void> {
  const deadline = performance.now() + GRACE_MS;
  for (let ready = Atomics.load(ctl, READY); ready < producers; ready = Atomics.load(ctl, READY)) {
    const left = deadline - performance.now();
    if (left <= 0) throw new Error(`only ${ready} of ${producers} producers started within ${GRACE_MS} ms`);
    // pairs with the notify on READY in atBarrier(); the workers keep the event loop alive
    const wait = Atomics.waitAsync(ctl, READY, ready, Math.max(1, Math.min(left, 100)));
    if (wait.async) await wait.value;
  }
}

/**
 * Runs `config` once for `contender`: sets it up, hands `config.producers`
 * workers their part, releases them together, and lets its consumer receive records
 * until every END has arrived. Checks that every record written was
 * received exactly once, in order, and that the contender counted what the
 * producers did; throws otherwise, and on a configuration validate() refuses.
 */
export async function run<S>(contender: Contender<S>, config: BenchConfig): Promise<RunResult> {
  const refused = contender.validate(config);
  if (refused !== null) throw new RangeError(`${contender.name} refuses this configuration: ${refused}`);
  const { producers } = config;
  if (!(Number.isInteger(producers) && producers >= 1 && producers <= MAX_PRODUCERS)) {
    throw new RangeError(`producers must be an integer from 1 to ${MAX_PRODUCERS}; got ${producers}`);
  }
  if (!(Number.isInteger(config.recordSize) && config.recordSize >= 16 && config.recordSize % 8 === 0)) {
    throw new RangeError(
      `recordSize must be a multiple of 8 from 16 up (id, sequence, send time); got ${config.recordSize}`,
    );
  }
  const paced = typeof config.pace === 'object';
  const { state, shared } = await contender.setup(config);
  const control = new SharedArrayBuffer(BUSY_BYTES + 8 * MAX_PRODUCERS);
  const ctl = new Int32Array(control);
  const quota = Math.floor(config.records / producers);
  const window = Math.floor(config.ringBytes / ringStride(config.recordSize));
  const inits: ProducerInit[] = [];
  for (let index = 0; index < producers; index++) {
    inits.push({
      contender: contender.name,
      index,
      quota,
      recordSize: config.recordSize,
      wakeup: config.wakeup,
      pace: config.pace,
      control,
      calibration: paced ? calibrationBuffer() : null,
      window,
      shared,
      requestByMessage: contender.requestByMessage === true,
    });
  }
  const workers = workersOf(contender.name, producers);
  const race = <R>(p: Promise<R>): Promise<R> => Promise.race([p, ...workers.map((w) => w.failed)]);
  const channels = inits.map(() => new MessageChannel());
  // each worker says 'done' on parentPort once its producer loop has ended (worker.ts)
  const done = workers.map(({ worker }) => new Promise((resolve) => worker.once('message', resolve)));
  let ok = false;
  try {
    workers.forEach(({ worker }, i) => {
      worker.ref(); // a pending Atomics.waitAsync alone does not keep Node's event loop alive
      worker.postMessage({ ...inits[i]!, port: channels[i]!.port2 }, [channels[i]!.port2]);
    });
    // each paced producer calibrates its clock against ours before the barrier (blocks this thread briefly)
    const offsets = Float64Array.from(inits, (init) =>
      init.calibration === null ? 0 : calibrateMain(init.calibration).offsetMs,
    );
    await race(waitForReady(ctl, producers));
    const session = new Session(
      channels.map((c) => c.port1),
      ctl,
      config,
      offsets,
      contender.requestByMessage === true,
    );
    const t0 = performance.now();
    session.start();
    await race(
      withTimeout(
        contender.consumer(state, config, session),
        config.timeLimitMs + GRACE_MS,
        'the consumer receiving every END record',
      ),
    );
    const elapsedMs = performance.now() - t0;
    const { verifier } = session;
    if (verifier.error !== null) throw new Error(verifier.error);
    await race(withTimeout(Promise.all(done), GRACE_MS, 'the producers finishing'));
    let stopped = false;
    let attempts = 0;
    let busyMs = 0;
    for (let index = 0; index < producers; index++) {
      const slot = FIRST + index * SLOT;
      const written = Atomics.load(ctl, slot + WRITTEN);
      if (written !== verifier.received(index)) {
        throw new Error(
          `producer ${index} wrote ${written} records but the consumer received ${verifier.received(index)}`,
        );
      }
      stopped ||= written < quota;
      attempts += written + Atomics.load(ctl, slot + DROPS);
      busyMs += new Float64Array(control, BUSY_BYTES)[index]!;
    }
    const counts = contender.measure(state, session);
    const drops = session.producerDrops();
    if (counts.records !== verifier.records || counts.drops !== drops) {
      throw new Error(
        `${contender.name} counted ${counts.records} records and ${counts.drops} refusals, the run ${verifier.records} and ${drops}`,
      );
    }
    ok = true;
    return {
      records: verifier.records,
      elapsedMs,
      drops,
      wakeups: counts.wakeups,
      stopped,
      producerUsPerRecord: paced ? (busyMs * 1000) / Math.max(1, attempts) : null,
      latency: session.latency(),
    };
  } finally {
    for (const c of channels) c.port1.close();
    for (const { worker } of workers) worker.unref();
    if (!ok) {
      // a failed run may leave a producer looping: this contender's workers go
      const pool = pools.get(contender.name) ?? [];
      pools.delete(contender.name);
      await Promise.all(pool.map((w) => w.worker.terminate()));
    }
  }
}

/** What the ring-style consumer loops call (RingBufferConsumer, PerfBufferConsumer). */
export interface LoopConsumer {
  consume(): number;
  poll(timeoutMs?: number): Promise<number>;
  close(): void;
}

/**
 * The consumer loop of the ring-style contenders, until every END arrived:
 * with wakeups, `await consumer.poll()` (the README's loop); with
 * NO_WAKEUP, consume() in a loop, sleeping DRAIN_SLEEP_MS when it finds
 * nothing. Closes the consumer at the end.
 */
export async function ringLoop(consumer: LoopConsumer, config: BenchConfig, session: Session): Promise<void> {
  try {
    while (!session.done) {
      if (config.wakeup !== 'NO_WAKEUP') await consumer.poll();
      else if (consumer.consume() === 0) await sleep(DRAIN_SLEEP_MS);
      session.tick();
    }
  } finally {
    consumer.close();
  }
}
