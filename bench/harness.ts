// What every cross-thread contender shares: the control block behind the start
// barrier, the producer loop run in each worker, the record checker, and
// measure(), which times one run from the barrier to the last record.
//
// A record is `recordSize` bytes (a multiple of 8): word 0 the producer's
// index, word 1 its sequence number (u32 words in the platform's byte order),
// then a fixed pattern; in paced runs bytes 8..15 carry the send time (an f64
// of clock()). Each producer ends its stream with one record whose sequence
// number is END.

import { Worker } from 'node:worker_threads';
import { BPF_RB_FORCE_WAKEUP } from 'wasm-ringbuf';
import { flagsFor, ringStride, type BenchConfig, type Pace, type RunResult, type Wakeup } from './config.js';
import { calibrateMain, calibrateWorker, calibrationBuffer, clock, percentile, sleep, threadCpuNs, withTimeout } from './util.js';

/** Sequence number of the record that ends a producer's stream. */
export const END = 0xffffffff;

// Control block: an Int32Array over a SharedArrayBuffer seen by the main
// thread and every producer.
const READY = 0; // producers waiting at the barrier
const GO = 1; // 1: start producing
const STOP = 2; // 1: the time limit has passed; send the end marker now
const NAP = 3; // never written: a producer backs off by sleeping on it
const TRIGGER = 4; // back-to-back: batches the consumer has asked for
const FIRST = 8; // first per-producer slot
const SLOT = 4; // words per producer: WRITTEN, DROPS, ACK
const WRITTEN = 0;
const DROPS = 1;
const ACK = 2;
const MAX_PRODUCERS = 64;
/** Byte offset, after the Int32 words, of one f64 per producer: the milliseconds its paced writes took. */
const BUSY_BYTES = 4 * (FIRST + MAX_PRODUCERS * SLOT);

/** How long a producer that found no room sleeps before it retries: short, but never a spin. */
const BACKOFF_MS = 0.05;
/** How long a draining consumer sleeps when it finds nothing. */
export const DRAIN_SLEEP_MS = 1;
/** Time allowed for workers to start, and past the time limit for the consumer to finish. */
const GRACE_MS = 15_000;

/** What a producer worker receives: the cell's settings plus the contender's own `extra`. */
export interface ProducerInit<T = unknown> {
  /** The `kind` of the ProducerKind that builds this producer (contenders/index.ts lists them). */
  kind: string;
  /** This producer's index, 0 .. producers - 1, written in word 0 of its records. */
  index: number;
  /** Records to send unless STOP comes first. */
  quota: number;
  recordSize: number;
  wakeup: Wakeup;
  pace: Pace;
  full: 'retry' | 'drop';
  control: SharedArrayBuffer;
  /** Paced runs: this producer's clock calibration buffer (util.ts), answered before the barrier. */
  calibration: SharedArrayBuffer | null;
  /** Records a producer may have in flight where nothing else bounds them: as many as the ring holds. */
  window: number;
  extra: T;
}

/**
 * The producer side of a contender, in a worker. The producer loop
 * (runProducer) stamps each record and picks its flags; `write` only sends.
 */
export interface Producer {
  /** Copies `record` in and commits it with `flags`; false when there is no room now. */
  write(record: Uint8Array, flags: number): boolean;
  /** Sends what the producer holds back (batching producers); called after the END record. */
  flush?(): void;
}

/** The producer side of a contender: `create` runs in each worker; `kind` names it in ProducerInit. */
export interface ProducerKind {
  readonly kind: string;
  create(init: ProducerInit): Producer | Promise<Producer>;
}

/** The zero-allocation producer path of every BPF-style ring here (wasm, per-producer, sharded, the JS twin). */
export interface RawRing {
  readonly bytes: Uint8Array;
  reserveRaw(len: number): number;
  submitRaw(offset: number, flags?: number): void;
}

/** reserveRaw, copy, submitRaw: false when the ring has no room now. */
export function rawWriter(ring: RawRing): Producer['write'] {
  const { bytes } = ring;
  return (record, flags) => {
    const offset = ring.reserveRaw(record.length);
    if (offset === 0) return false;
    bytes.set(record, offset);
    ring.submitRaw(offset, flags);
    return true;
  };
}

/**
 * A producer's record, ready to copy: `stamp(seq)` writes the sequence
 * number into it and returns its bytes. Every contender copies these bytes
 * once per record, wherever its records go.
 */
export class RecordTemplate {
  readonly bytes: Uint8Array;
  readonly #words: Uint32Array;
  readonly #sent: Float64Array | null;

  constructor(recordSize: number, index: number) {
    this.bytes = new Uint8Array(recordSize);
    for (let i = 8; i < recordSize; i++) this.bytes[i] = (i * 31 + 7) & 0xff;
    this.#words = new Uint32Array(this.bytes.buffer, 0, 2);
    this.#words[0] = index;
    this.#sent = recordSize >= 16 ? new Float64Array(this.bytes.buffer, 8, 1) : null;
  }

  /** The record with sequence number `seq`. */
  stamp(seq: number): Uint8Array {
    this.#words[1] = seq;
    return this.bytes;
  }

  /** Writes the send time `ms` (a clock() reading) into bytes 8..15. */
  sentAt(ms: number): void {
    this.#sent![0] = ms;
  }
}

/** Index in the control block of the count of producer `index`'s records the consumer has taken. */
export function ackWord(index: number): number {
  return FIRST + index * SLOT + ACK;
}

/**
 * The producer loop, run in each worker: waits at the barrier, sends its
 * quota (or stops early on STOP), sleeps briefly and retries whenever there
 * is no room, counting each refusal as a drop, then sends its END record
 * with BPF_RB_FORCE_WAKEUP. Paced (`{ rate }`), it sends what is due each
 * 1 ms tick, timing its writes, and may drop instead of retrying;
 * back-to-back (`{ batch }`), it sends one batch per trigger.
 */
export function runProducer(init: ProducerInit, producer: Producer): void {
  const ctl = new Int32Array(init.control);
  const record = new RecordTemplate(init.recordSize, init.index);
  const flags = flagsFor(init.wakeup);
  const { pace, quota } = init;
  let drops = 0;
  const send = (seq: number, f: number): void => {
    while (!producer.write(record.stamp(seq), f)) {
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
      send(seq, flags(seq));
    }
  } else if ('rate' in pace) {
    // Per 1 ms tick: the records due by now, back to back, each write timed
    // from the clock reading that stamps it to the next; then sleep to the tick.
    const t0 = performance.now();
    for (let attempts = 0; attempts < quota && Atomics.load(ctl, STOP) === 0;) {
      const due = Math.min(quota, Math.floor(((performance.now() - t0) * pace.rate) / 1000));
      for (let t = performance.now(); attempts < due; attempts++) {
        record.sentAt(performance.timeOrigin + t);
        const ok = producer.write(record.stamp(seq), flags(seq));
        const t1 = performance.now();
        busyMs += t1 - t;
        t = t1;
        if (ok) {
          seq++;
        } else {
          drops++;
          if (init.full === 'retry') {
            attempts--;
            Atomics.wait(ctl, NAP, 0, BACKOFF_MS);
            t = performance.now();
          }
        }
      }
      const wait = t0 + Math.floor(performance.now() - t0) + 1 - performance.now();
      if (wait > 0) Atomics.wait(ctl, NAP, 0, wait);
    }
  } else {
    for (let done = 0; seq + pace.batch <= quota; done++) {
      // pairs with the TRIGGER add and notify in Session.tick()
      while (Atomics.load(ctl, TRIGGER) === done) Atomics.wait(ctl, TRIGGER, done, 1000);
      if (Atomics.load(ctl, STOP) !== 0) break;
      for (const last = seq + pace.batch; seq < last; seq++) send(seq, pace.forceLast === true && seq === last - 1 ? BPF_RB_FORCE_WAKEUP : flags(seq));
      producer.flush?.();
    }
  }
  send(END, BPF_RB_FORCE_WAKEUP);
  producer.flush?.();
  // read by measure() once this worker has exited
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
      this.error = id < this.producers
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

/** The consumer's view of a run in progress. */
export class Session {
  readonly workers: readonly Worker[];
  readonly verifier: Verifier;
  readonly #ctl: Int32Array;
  readonly #deadline: number;
  /** Back-to-back: records per batch (0: not back-to-back), and batches taken whole. */
  readonly #batch: number;
  #batches = 0;
  #stopped = false;
  /** Paced runs: each producer's clock offset (its clock − ours, ms), and the latencies seen (ms). */
  readonly #offsets: Float64Array;
  readonly #latencies: Float64Array | null;
  #n = 0;
  readonly #sent = new Float64Array(1);
  readonly #sentWords = new Uint32Array(this.#sent.buffer);

  constructor(workers: readonly Worker[], ctl: Int32Array, verifier: Verifier, deadline: number, config: BenchConfig, offsets: Float64Array) {
    this.workers = workers;
    this.#ctl = ctl;
    this.verifier = verifier;
    this.#deadline = deadline;
    this.#batch = typeof config.pace === 'object' && 'batch' in config.pace ? config.pace.batch : 0;
    this.#offsets = offsets;
    this.#latencies = typeof config.pace === 'object' && 'rate' in config.pace ? new Float64Array(config.records) : null;
  }

  /**
   * Checks the record whose producer index is `words[at]` and sequence
   * number `words[at + 1]`; in paced runs, takes its latency from the send
   * time in `words[at + 2 .. at + 3]`.
   */
  record(words: Uint32Array, at: number): void {
    const id = words[at]!;
    const seq = words[at + 1]!;
    this.verifier.record(id, seq);
    if (this.#latencies !== null && seq !== END && this.#n < this.#latencies.length) {
      this.#sentWords[0] = words[at + 2]!;
      this.#sentWords[1] = words[at + 3]!;
      this.#latencies[this.#n++] = clock() - this.#sent[0]! + (this.#offsets[id] ?? NaN);
    }
  }

  /** Paced runs: p50 and p99 of the latencies in µs, the first 10 % left out (warm-up); null otherwise. */
  latency(): { p50Us: number; p99Us: number } | null {
    if (this.#latencies === null) return null;
    const kept = this.#latencies.subarray(Math.floor(this.#n / 10), this.#n);
    return { p50Us: percentile(kept, 50) * 1000, p99Us: percentile(kept, 99) * 1000 };
  }

  /**
   * Consumer loops call it once per pass: tells the producers to finish once
   * the time limit has passed; back-to-back, asks for the next batch once
   * this one has arrived whole.
   */
  tick(): void {
    if (this.#stopped) return;
    if (this.#batch > 0) {
      if (this.verifier.records < (this.#batches + 1) * this.#batch * this.verifier.producers) return;
      this.#batches++;
    }
    if (performance.now() >= this.#deadline) {
      this.#stopped = true;
      Atomics.store(this.#ctl, STOP, 1); // read by the producer loop every 256 records, or after a trigger
    }
    if (this.#batch > 0) {
      Atomics.add(this.#ctl, TRIGGER, 1);
      Atomics.notify(this.#ctl, TRIGGER); // pairs with the wait on TRIGGER in runProducer()
    }
  }

  /** Counts `n` more records of producer `index` as taken, for producers that bound what they have in flight. */
  ack(index: number, n: number): void {
    Atomics.add(this.#ctl, ackWord(index), n);
  }
}

/** A worker running bench/worker.ts in one role, with its failures and exit watched from the moment it exists. */
export interface Spawned {
  readonly worker: Worker;
  /** Resolves when the worker exits with code 0; rejects on an error or another code. */
  readonly exited: Promise<void>;
}

/** Starts bench/worker.ts as `role` with `data` (structured-cloned; `transfer` moved). */
export function spawn(role: string, data: object, transfer: readonly Transferable[] = []): Spawned {
  const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: { role, ...data }, transferList: transfer as never });
  const exited = new Promise<void>((resolve, reject) => {
    worker.on('error', (e) => reject(new Error(`${role} worker failed: ${e.message}`)));
    worker.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${role} worker exited with code ${code}`))));
  });
  exited.catch(() => {}); // observed by whoever awaits it
  return { worker, exited };
}

/** Rejects as soon as one of `workers` fails; never resolves. Race it against what you wait for. */
export function firstFailure(workers: readonly Spawned[]): Promise<never> {
  const failed = new Promise<never>((_, reject) => {
    for (const w of workers) w.exited.catch(reject);
  });
  failed.catch(() => {}); // observed through Promise.race
  return failed;
}

/**
 * The start barrier, a producer worker's side: counts itself ready on
 * `ctl` (a control block of this module's layout) and waits for release().
 */
export function atBarrier(ctl: Int32Array): void {
  Atomics.add(ctl, READY, 1);
  Atomics.notify(ctl, READY); // pairs with the waitAsync on READY in waitForReady()
  Atomics.wait(ctl, GO, 0); // pairs with the GO store in release()
}

/** Lets every producer waiting in atBarrier() go. */
export function release(ctl: Int32Array): void {
  Atomics.store(ctl, GO, 1);
  Atomics.notify(ctl, GO); // pairs with the wait on GO in atBarrier()
}

/** Resolves once `producers` workers wait in atBarrier(); throws if they have not within GRACE_MS. */
export async function waitForReady(ctl: Int32Array, producers: number): Promise<void> {
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
 * Runs `config` once for a contender: starts `config.producers` workers that
 * build their side with `producer.create` (given `extra`), releases them
 * together, and lets `consume` receive records until every END has arrived.
 * Checks that every record written was received exactly once, in order, and
 * returns the counts; `wakeups` and `lockWaits` are left to the contender.
 */
export async function measure<T>(
  config: BenchConfig,
  producer: ProducerKind,
  extra: T,
  consume: (session: Session) => Promise<void>,
): Promise<RunResult> {
  const { producers } = config;
  if (!(Number.isInteger(producers) && producers >= 1 && producers <= MAX_PRODUCERS)) {
    throw new RangeError(`producers must be an integer from 1 to ${MAX_PRODUCERS}; got ${producers}`);
  }
  if (!(Number.isInteger(config.recordSize) && config.recordSize >= 8 && config.recordSize % 8 === 0)) {
    throw new RangeError(`recordSize must be a multiple of 8 from 8 up (it carries two u32 words); got ${config.recordSize}`);
  }
  const paced = typeof config.pace === 'object' && 'rate' in config.pace;
  if (paced && config.recordSize < 16) throw new RangeError(`paced records carry their send time in bytes 8..15: recordSize must be 16 or more; got ${config.recordSize}`);
  const control = new SharedArrayBuffer(BUSY_BYTES + 8 * MAX_PRODUCERS);
  const ctl = new Int32Array(control);
  const quota = Math.floor(config.records / producers);
  const window = Math.floor(config.ringBytes / ringStride(config.recordSize));
  const inits: ProducerInit<T>[] = [];
  for (let index = 0; index < producers; index++) {
    inits.push({
      kind: producer.kind, index, quota, recordSize: config.recordSize, wakeup: config.wakeup, pace: config.pace, full: config.full,
      control, calibration: paced ? calibrationBuffer() : null, window, extra,
    });
  }
  const workers = inits.map((init) => spawn('producer', init));
  const failed = firstFailure(workers);
  const race = <R>(p: Promise<R>): Promise<R> => Promise.race([p, failed]);
  try {
    // each paced producer calibrates its clock against ours before the barrier (blocks this thread briefly)
    const offsets = Float64Array.from(inits, (init) => (init.calibration === null ? 0 : calibrateMain(init.calibration).offsetMs));
    await race(waitForReady(ctl, producers));
    const verifier = new Verifier(producers);
    const t0 = performance.now();
    const session = new Session(workers.map((w) => w.worker), ctl, verifier, t0 + config.timeLimitMs, config, offsets);
    Atomics.store(ctl, TRIGGER, 1); // back-to-back: the first batch
    const cpu0 = threadCpuNs();
    release(ctl);
    await race(withTimeout(consume(session), config.timeLimitMs + GRACE_MS, 'the consumer receiving every END record'));
    const cpu1 = threadCpuNs();
    const elapsedMs = performance.now() - t0;
    const consumerNsPerRecord = cpu0 === null || cpu1 === null ? null : (cpu1 - cpu0) / Math.max(1, verifier.records);
    if (verifier.error !== null) throw new Error(verifier.error);
    await race(withTimeout(Promise.all(workers.map((w) => w.exited)), GRACE_MS, 'the producers exiting'));
    let drops = 0;
    let stopped = false;
    let attempts = 0;
    let busyMs = 0;
    for (let index = 0; index < producers; index++) {
      const slot = FIRST + index * SLOT;
      const written = Atomics.load(ctl, slot + WRITTEN);
      if (written !== verifier.received(index)) {
        throw new Error(`producer ${index} wrote ${written} records but the consumer received ${verifier.received(index)}`);
      }
      stopped ||= written < quota;
      drops += Atomics.load(ctl, slot + DROPS);
      attempts += written + Atomics.load(ctl, slot + DROPS);
      busyMs += new Float64Array(control, BUSY_BYTES)[index]!;
    }
    return {
      records: verifier.records, elapsedMs, drops, wakeups: null, lockWaits: null, stopped,
      producerUsPerRecord: paced ? (busyMs * 1000) / Math.max(1, attempts) : null, latency: session.latency(), consumerNsPerRecord,
    };
  } finally {
    await Promise.all(workers.map((w) => w.worker.terminate()));
  }
}

/** What the consumer loops of ring-style contenders call. */
export interface LoopConsumer {
  /** Needed by the 'batch' mode only. */
  consumeN?(n: number): number;
  consume(): number;
  poll(timeoutMs: number): Promise<number>;
}

/**
 * The consumer loop of `config.consume`, until every END record arrived:
 * `poll(pollMs)`; `consumeN(batch)`, polling when it finds nothing; or drain,
 * sleeping `DRAIN_SLEEP_MS` when it finds nothing.
 */
export async function consumeLoop(consumer: LoopConsumer, config: BenchConfig, session: Session): Promise<void> {
  const { verifier } = session;
  switch (config.consume) {
    case 'poll':
      while (!verifier.done) {
        await consumer.poll(config.pollMs);
        session.tick();
      }
      break;
    case 'batch':
      while (!verifier.done) {
        if (consumer.consumeN!(config.batch) === 0) await consumer.poll(config.pollMs);
        session.tick();
      }
      break;
    case 'drain':
      while (!verifier.done) {
        if (consumer.consume() === 0) await sleep(DRAIN_SLEEP_MS);
        session.tick();
      }
      break;
  }
}
