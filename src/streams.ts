// The shapes Node and the web already use, over the public API: an async
// iterator of records or of batches, a WHATWG ReadableStream of records (Node:
// `Readable.fromWeb()` of it), and a WritableStream whose backpressure is the
// ring's room.
//
// The reading side owns a RingBufferConsumer. Its callback turns each record
// into a value (by default a copy: a view dies with its callback) and queues
// it; the iterator, or the stream's pull(), awaits `consumer.poll()` only when
// the queue is empty, so a reader that stops pulling stops consuming and the
// ring's producers feel it (they wait for room, or drop and count). Every way
// out (return(), break, cancel(), the signal, the end of `until`) closes the
// consumer, which ends a pending poll and gives the ring up: nothing is left
// waiting, and Node can exit.

import type { CommitFlags } from './constants.js';
import { RingBufferConsumer } from './consumer.js';
import { writeTextAsync } from './codec.js';
import { RingBufferTypeError, checkFlags, checkFunction, checkPositive, checkSignal, checkTimeout, describeValue } from './errors.js';
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
  /** Records taken from the ring per batch at most (default 1024): bounds what one pass copies. */
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
}

const DEFAULT_MAX_BATCH = 1024;
const copy = (data: Uint8Array): Uint8Array => data.slice();

/** The reading shared by the iterators and the stream: batches of mapped records. */
class BatchReader<T> {
  readonly #consumer: RingBufferConsumer;
  readonly #signal: AbortSignal | undefined;
  /** Aborted to end a pending poll when `until` settles or the reading is closed. */
  readonly #stop = new AbortController();
  readonly #onAbort = (): void => this.#stop.abort();
  #batch: T[] = [];
  /** An error a callback threw after some records of the batch were queued: thrown after them. */
  #error: { err: unknown } | null = null;
  #ending = false;
  #closed = false;
  /** The read in flight: reads run one after another, as a consumer polls once at a time. */
  #last: Promise<unknown> = Promise.resolve();
  lost = 0;

  constructor(source: RingBuffer | readonly RingBuffer[], options: ReadRecordsOptions<T> | undefined, call: string) {
    if (options !== undefined && (options === null || typeof options !== 'object')) {
      throw new RingBufferTypeError(`${call} options must be an object such as { map: readJSON }; got ${describeValue(options)}`, 'ERR_RINGBUF_TYPE');
    }
    const { map = copy as unknown as (data: Uint8Array, lost: number) => T, until, signal, maxBatch = DEFAULT_MAX_BATCH, napMs } = options ?? {};
    checkFunction(map, 'map');
    checkSignal(signal);
    checkPositive(maxBatch, 'maxBatch', 2 ** 30, 'It bounds the records one pass copies (default 1024).');
    const rings = source instanceof RingBuffer ? [source] : source;
    if (!Array.isArray(rings) || rings.length === 0) {
      throw new RingBufferTypeError(`${call} takes a RingBuffer (or an array of them); got ${describeValue(source)}`, 'ERR_RINGBUF_TYPE');
    }
    const callback = (data: Uint8Array, lost: number): number => {
      this.lost += lost;
      this.#batch.push(map(data, lost));
      return this.#batch.length >= maxBatch ? -1 : 0; // a full batch ends the pass; the next carries on
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

  /** The next non-empty batch, or null once the reading has ended. */
  next(): Promise<T[] | null> {
    const read = this.#last.then(() => this.#read());
    this.#last = read.catch(() => {});
    return read;
  }

  async #read(): Promise<T[] | null> {
    for (;;) {
      if (this.#signal?.aborted && !this.#closed) {
        this.close();
        throw this.#signal.reason;
      }
      if (this.#batch.length > 0) return this.#take();
      if (this.#error !== null) {
        const { err } = this.#error;
        this.#error = null;
        this.close();
        throw err;
      }
      if (this.#closed) return null;
      if (this.#ending) {
        // the producers are done: what is committed now is all there is
        this.#pass(() => this.#consumer.consume());
        if (this.#batch.length > 0) return this.#take();
        if (this.#error === null) {
          this.close();
          return null;
        }
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

  /** A pass that keeps a callback's error for after the records queued before it. */
  #pass(pass: () => number): void {
    try {
      pass();
    } catch (err) {
      this.#error = { err };
    }
  }

  #take(): T[] {
    const batch = this.#batch;
    this.#batch = [];
    return batch;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#batch = [];
    this.#signal?.removeEventListener('abort', this.#onAbort);
    this.#stop.abort();
    this.#consumer.close();
  }
}

function iterator<T, B>(reader: BatchReader<B>, step: () => Promise<IteratorResult<T, undefined>>): RecordIterator<T> {
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
 * is `map(data, lost)`, by default a copy of its bytes. It takes the ring's
 * consumer (a ring has one) and closes it when the iteration ends: by
 * `break` or `return()`, when `signal` aborts (the pending `next()` rejects
 * with its reason), or when `until` settles and what was committed by then
 * has been read.
 */
export function readRecords<T = Uint8Array>(ring: RingBuffer | readonly RingBuffer[], options?: ReadRecordsOptions<T>): RecordIterator<T> {
  const reader = new BatchReader<T>(ring, options, 'readRecords()');
  let batch: T[] = [];
  let i = 0;
  return iterator(reader, async () => {
    if (i === batch.length) {
      const next = await reader.next();
      if (next === null) return { done: true, value: undefined };
      batch = next;
      i = 0;
    }
    const value = batch[i]!;
    batch[i++] = undefined as T; // let the copy go once read
    return { done: false, value };
  });
}

/**
 * As `readRecords()`, but yields the records of each pass over the ring as
 * one array (at most `maxBatch`): fewer awaits, for consumers that write in
 * batches (a file, a socket, a database).
 */
export function readBatches<T = Uint8Array>(ring: RingBuffer | readonly RingBuffer[], options?: ReadRecordsOptions<T>): RecordIterator<T[]> {
  const reader = new BatchReader<T>(ring, options, 'readBatches()');
  return iterator(reader, async () => {
    const next = await reader.next();
    return next === null ? { done: true, value: undefined } : { done: false, value: next };
  });
}

/**
 * A WHATWG `ReadableStream` of the records of `ring`, as `readRecords()`
 * yields them (copies by default). It reads the ring only when its reader
 * pulls (the queue's high-water mark is 0: the ring is the buffer). `cancel()`
 * closes the consumer; `until` closes the stream; `signal` errors it. In Node,
 * `Readable.fromWeb(stream, { objectMode: true })` makes it a Node stream.
 */
export function createReadableStream<T = Uint8Array>(ring: RingBuffer | readonly RingBuffer[], options?: ReadRecordsOptions<T>): ReadableStream<T> {
  const reader = new BatchReader<T>(ring, options, 'createReadableStream()');
  let cancelled = false;
  return new ReadableStream<T>(
    {
      async pull(controller) {
        const batch = await reader.next();
        if (cancelled) return;
        if (batch === null) controller.close();
        else for (const record of batch) controller.enqueue(record);
      },
      cancel() {
        cancelled = true;
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
export function createWritableStream<W = ArrayBufferView | string>(ring: RingBuffer, options: WritableStreamOptions<W> = {}): WritableStream<W> {
  if (!(ring instanceof RingBuffer)) {
    throw new RingBufferTypeError(`createWritableStream() takes a RingBuffer; got ${describeValue(ring)}`, 'ERR_RINGBUF_TYPE');
  }
  if (options === null || typeof options !== 'object') {
    throw new RingBufferTypeError(`createWritableStream() options must be an object such as { timeoutMs: 100 }; got ${describeValue(options)}`, 'ERR_RINGBUF_TYPE');
  }
  const { flags = 0, timeoutMs = -1, encode, highWaterMark = 1 } = options;
  checkFlags(flags);
  checkTimeout(timeoutMs);
  if (encode !== undefined) checkFunction(encode, 'encode');
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
