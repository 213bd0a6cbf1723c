// The shapes Node and the web already use, over the public API: an async
// iterator of records or of batches, a WHATWG ReadableStream of records (Node:
// `Readable.fromWeb()` of it), and a WritableStream whose backpressure is the
// ring's room.
//
// The reading side owns a RingBufferConsumer, and takes records from the ring
// only for a read that asks for them: its callback maps each record into a
// value (by default a copy: a view dies with its callback) for the pending
// read, and stops the pass once that read has what it asked for (one record
// for next() and the stream's pull(), up to maxBatch for a batch). The
// consumer position therefore moves only past records handed out, so however
// a reader stops (break, return(), throw(), cancel(), the signal, close()),
// the rest stays in the ring, in order, for the next reader. Reads queue: a
// next() before the last one settled waits for it. Every way out closes the
// consumer, which ends a pending poll and gives the ring up: nothing is left
// waiting, and Node can exit.

import type { CommitFlags } from './constants.js';
import { RingBufferConsumer } from './consumer.js';
import { writeTextAsync } from './codec.js';
import {
  RingBufferTypeError,
  checkFlags,
  checkFunction,
  checkNonNegative,
  checkPositive,
  checkSignal,
  checkTimeout,
  describeValue,
} from './errors.js';
import { RingBuffer } from './ring-buffer.js';
import type { WaitOptions } from './wait.js';

/** Options of `readRecords()`, `readBatches()` and `createReadableStream()`. */
export interface ReadRecordsOptions<T = Uint8Array> extends WaitOptions {
  /**
   * Turns a record into the value read, during the consumer's callback: its
   * view is valid only then. Default: a copy (`data.slice()`). `readText` and
   * `readJSON` fit here. `lost` is the number of records lost just before
   * this one (see `SampleCallback`).
   */
  map?: (data: Uint8Array, lost: number) => T;
  /**
   * Once this settles (resolved or rejected), the records committed by then
   * are read and the reading ends: `done`, or the stream closes. Typically
   * "every producer has finished".
   */
  until?: PromiseLike<unknown>;
  /** Ends the reading at once: the pending read rejects with the signal's reason. */
  signal?: AbortSignal;
  /** `readBatches()`: records per batch at most (default 1024). The other readers take one record per read. */
  maxBatch?: number;
}

/** An async iterator over a ring's records (or batches), with what it was told of losses. */
export interface RecordIterator<T> extends AsyncIterableIterator<T> {
  /** Records lost (refused, or overwritten unread) before those read so far. */
  readonly lost: number;
  /** Ends the iteration (as `return()`), closing the consumer. */
  close(): void;
  /** Resolves to `{ done: true }` and closes the consumer, also while a `next()` is pending. */
  return(): Promise<IteratorResult<T, undefined>>;
  /** Closes the consumer and rejects with `err`, as a generator that does not catch it. */
  throw(err?: unknown): Promise<IteratorResult<T, undefined>>;
}

const DEFAULT_MAX_BATCH = 1024;
const copy = (data: Uint8Array): Uint8Array => data.slice();

/** The reading shared by the iterators and the stream: records taken for the read that asks for them. */
class Reader<T> {
  readonly #consumer: RingBufferConsumer;
  readonly #signal: AbortSignal | undefined;
  /** Aborted to end a pending poll when `until` settles or the reading is closed. */
  readonly #stop = new AbortController();
  readonly #onAbort = (): void => this.#stop.abort();
  /** What the read in progress has taken, and how many records it asks for. */
  #got: T[] = [];
  #want = 0;
  /** Where the read in progress hands its values (by default into #got). */
  #sink: ((value: T) => void) | null = null;
  #taken = 0;
  /** An error a callback threw after the read had taken some records: thrown by the next read. */
  #error: { err: unknown } | null = null;
  #ending = false;
  #closed = false;
  /** The read in flight: reads run one after another, as a consumer polls once at a time. */
  #last: Promise<unknown> = Promise.resolve();
  lost = 0;

  constructor(source: RingBuffer | readonly RingBuffer[], options: ReadRecordsOptions<T> | undefined, call: string) {
    if (options !== undefined && (options === null || typeof options !== 'object')) {
      throw new RingBufferTypeError(
        `${call} options must be an object such as { map: readJSON }; got ${describeValue(options)}`,
        'ERR_RINGBUF_TYPE',
      );
    }
    const {
      map = copy as unknown as (data: Uint8Array, lost: number) => T,
      until,
      signal,
      maxBatch = DEFAULT_MAX_BATCH,
      napMs,
    } = options ?? {};
    checkFunction(map, 'map');
    checkSignal(signal);
    checkPositive(maxBatch, 'maxBatch', 2 ** 30, 'It bounds the records of one batch (default 1024).');
    const rings = source instanceof RingBuffer ? [source] : source;
    if (!Array.isArray(rings) || rings.length === 0 || !rings.every((r) => r instanceof RingBuffer)) {
      throw new RingBufferTypeError(
        `${call} takes a RingBuffer (or an array of them); got ${describeValue(source)}`,
        'ERR_RINGBUF_TYPE',
      );
    }
    if (until !== undefined && (until === null || typeof (until as PromiseLike<unknown>).then !== 'function')) {
      throw new RingBufferTypeError(`until must be a promise; got ${describeValue(until)}`, 'ERR_RINGBUF_TYPE');
    }
    const callback = (data: Uint8Array, lost: number): number => {
      // a record arrives only during a read's pass: the read asked for it
      const value = map(data, lost);
      this.lost += lost;
      if (this.#sink !== null) this.#sink(value);
      else this.#got.push(value);
      return ++this.#taken >= this.#want ? -1 : 0; // the read has what it asked for: the pass ends here
    };
    const consumer = new RingBufferConsumer(undefined, undefined, napMs === undefined ? undefined : { napMs });
    try {
      for (const ring of rings) consumer.add(ring, callback);
    } catch (err) {
      consumer.close();
      throw err;
    }
    this.#consumer = consumer;
    this.#signal = signal;
    signal?.addEventListener('abort', this.#onAbort);
    if (until !== undefined) {
      const end = (): void => {
        this.#ending = true;
        this.#stop.abort();
      };
      Promise.resolve(until).then(end, end);
    }
  }

  /**
   * Takes up to `want` records (at least one), in order, after the reads
   * queued before it: the values, or null once the reading has ended. With
   * `sink`, each value goes there as it is taken, and the result is empty.
   */
  read(want: number, sink: ((value: T) => void) | null = null): Promise<T[] | null> {
    const read = this.#last.then(() => this.#read(want, sink));
    this.#last = read.catch(() => {});
    return read;
  }

  async #read(want: number, sink: ((value: T) => void) | null): Promise<T[] | null> {
    this.#got = [];
    this.#want = want;
    this.#sink = sink;
    this.#taken = 0;
    for (;;) {
      if (this.#taken > 0) return this.#take();
      if (this.#error !== null) {
        const { err } = this.#error;
        this.#error = null;
        this.close();
        throw err;
      }
      if (this.#signal?.aborted && !this.#closed) {
        this.close();
        throw this.#signal.reason;
      }
      if (this.#closed) return null;
      // what is committed now first: poll() would nap before it looks
      this.#pass();
      if (this.#taken > 0 || this.#error !== null) continue;
      if (this.#ending) {
        // the producers are done and what they committed has been read
        if (this.#error === null) this.close();
        continue;
      }
      try {
        await this.#consumer.poll(-1, { signal: this.#stop.signal });
      } catch (err) {
        // the stop signal (until, close, the user's signal): the loop above says which
        if (!this.#stop.signal.aborted) this.#error = { err };
      }
    }
  }

  /** A pass that keeps a callback's error for after the records taken before it. */
  #pass(): void {
    try {
      this.#consumer.consume();
    } catch (err) {
      this.#error = { err };
    }
  }

  #take(): T[] {
    const got = this.#got;
    this.#got = [];
    this.#want = 0;
    this.#sink = null;
    this.#taken = 0;
    return got;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#signal?.removeEventListener('abort', this.#onAbort);
    this.#stop.abort();
    this.#consumer.close();
  }
}

function iterator<T>(
  reader: { readonly lost: number; close(): void },
  step: () => Promise<IteratorResult<T, undefined>>,
): RecordIterator<T> {
  const done: IteratorResult<T, undefined> = { done: true, value: undefined };
  const it: RecordIterator<T> = {
    get lost() {
      return reader.lost;
    },
    next: step,
    return() {
      reader.close();
      return Promise.resolve(done);
    },
    throw(err?: unknown) {
      reader.close();
      return Promise.reject(err);
    },
    close() {
      reader.close();
    },
    [Symbol.asyncIterator]() {
      return it;
    },
  };
  return it;
}

/**
 * An async iterator over the records of `ring` (or of several rings, each in
 * its order): `for await (const record of readRecords(rb)) ...`. Each record
 * is `map(data, lost)`, by default a copy of its bytes, taken from the ring
 * when a `next()` asks for it. It takes the ring's consumer (a ring has one)
 * and closes it when the iteration ends: by `break`, `return()` or `throw()`,
 * when `signal` aborts (the pending `next()` rejects with its reason), or when
 * `until` settles and what was committed by then has been read. The records
 * not yet read stay in the ring for the next reader.
 */
export function readRecords<T = Uint8Array>(
  ring: RingBuffer | readonly RingBuffer[],
  options?: ReadRecordsOptions<T>,
): RecordIterator<T> {
  const reader = new Reader<T>(ring, options, 'readRecords()');
  return iterator(reader, async () => {
    const got = await reader.read(1);
    return got === null ? { done: true, value: undefined } : { done: false, value: got[0]! };
  });
}

/**
 * As `readRecords()`, but yields what one pass over the ring finds as one
 * array (at most `maxBatch` records): fewer awaits, for consumers that write
 * in batches (a file, a socket, a database).
 */
export function readBatches<T = Uint8Array>(
  ring: RingBuffer | readonly RingBuffer[],
  options?: ReadRecordsOptions<T>,
): RecordIterator<T[]> {
  const reader = new Reader<T>(ring, options, 'readBatches()');
  const maxBatch = options?.maxBatch ?? DEFAULT_MAX_BATCH;
  return iterator(reader, async () => {
    const got = await reader.read(maxBatch);
    return got === null ? { done: true, value: undefined } : { done: false, value: got };
  });
}

/**
 * A WHATWG `ReadableStream` of the records of `ring`, as `readRecords()`
 * yields them (copies by default). It takes a record from the ring only when
 * its reader reads (the queue's high-water mark is 0: the ring is the
 * buffer), and enqueues it as it takes it, so `cancel()` leaves the rest in
 * the ring. `cancel()` closes the consumer; `until` closes the stream;
 * `signal` errors it. In Node, `Readable.fromWeb(stream, { objectMode: true })`
 * makes it a Node stream.
 */
export function createReadableStream<T = Uint8Array>(
  ring: RingBuffer | readonly RingBuffer[],
  options?: ReadRecordsOptions<T>,
): ReadableStream<T> {
  const reader = new Reader<T>(ring, options, 'createReadableStream()');
  return new ReadableStream<T>(
    {
      async pull(controller) {
        if ((await reader.read(1, (record) => controller.enqueue(record))) === null) controller.close();
      },
      cancel() {
        reader.close();
      },
    },
    { highWaterMark: 0 },
  );
}

/** Options of `createWritableStream()`. */
export interface WritableStreamOptions<W> {
  /** Commit flags of every record (default 0, the adaptive wakeup). */
  flags?: CommitFlags | number;
  /**
   * How long a write waits for room (default -1: without end, so the
   * stream's backpressure is the ring's room). A record that still finds no
   * room is dropped and counted in `stats().dropped`, and the stream goes on.
   */
  timeoutMs?: number;
  /** Turns a chunk into a record's bytes or text (strings are written as UTF-8). Default: the chunk itself. */
  encode?: (chunk: W) => ArrayBufferView | string;
  /** Chunks the stream queues before `writer.ready` waits (default 1). */
  highWaterMark?: number;
}

/**
 * A WHATWG `WritableStream` whose chunks become records of `ring`: bytes
 * (any `ArrayBufferView`) as they are, strings as UTF-8, or whatever
 * `encode` makes of them. Each write waits for room as `outputAsync()` does,
 * so `await writer.ready` (or `pipeTo()`) waits while the ring is full: the
 * backpressure is the consumer's pace. Aborting the stream ends a write that
 * waits. For any thread, a page's main thread included.
 */
export function createWritableStream<W = ArrayBufferView | string>(
  ring: RingBuffer,
  options: WritableStreamOptions<W> = {},
): WritableStream<W> {
  if (!(ring instanceof RingBuffer)) {
    throw new RingBufferTypeError(
      `createWritableStream() takes a RingBuffer; got ${describeValue(ring)}`,
      'ERR_RINGBUF_TYPE',
    );
  }
  if (options === null || typeof options !== 'object') {
    throw new RingBufferTypeError(
      `createWritableStream() options must be an object such as { timeoutMs: 100 }; got ${describeValue(options)}`,
      'ERR_RINGBUF_TYPE',
    );
  }
  const { flags = 0, timeoutMs = -1, encode, highWaterMark = 1 } = options;
  checkFlags(flags);
  checkTimeout(timeoutMs);
  if (encode !== undefined) checkFunction(encode, 'encode');
  checkNonNegative(highWaterMark, 'highWaterMark');
  // where a controller has no signal (older runtimes), abort() ends a waiting write through this one
  const aborted = new AbortController();
  return new WritableStream<W>(
    {
      async write(chunk, controller) {
        const record = encode === undefined ? (chunk as unknown as ArrayBufferView | string) : encode(chunk);
        const signal = (controller as { signal?: AbortSignal }).signal ?? aborted.signal;
        if (typeof record === 'string') await writeTextAsync(ring, record, flags, { timeoutMs, signal });
        else await ring.outputAsync(record, flags, { timeoutMs, signal });
      },
      abort(reason) {
        aborted.abort(reason);
      },
    },
    { highWaterMark },
  );
}
