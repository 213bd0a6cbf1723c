// Records that are not bytes: UTF-8 text and JSON, written into a reservation
// and read back from the consumer's view.
//
// Writing. A record's length is fixed when it is reserved, so the UTF-8 length
// of the text must be known first. Two ways were measured (bench/codecs.ts):
// encodeInto() straight into an exact reservation needs that length from a
// pass over the string in JavaScript, and V8 writes into shared memory more
// carefully than into private memory; encodeInto() into a private scratch
// buffer of the worst case (3 bytes per UTF-16 unit) gives the length for
// free, and one copy of the encoded bytes into the reservation is cheap. For
// log-line-sized strings the second took a quarter to a half of the time of
// the first, and of encode() + output() (two runs on a shared machine), so
// strings up to SCRATCH_UNITS take it.
// Longer ones (where a 3x scratch would be wasteful), and the async writers
// (which cannot hold the shared scratch across an await), measure the string
// and encode it straight into the reservation, where the platform allows:
// Node's encodeInto() writes into a view of shared memory, Chromium's refuses
// one ("The provided Uint8Array value must not be shared"), and there the
// text is encoded into private memory and copied. Nothing that throws
// between the reservation and its commit leaves the record behind: it is
// discarded.
//
// Reading. Node's TextDecoder decodes a view of shared memory; browsers'
// refuse it ("The provided ArrayBufferView value must not be shared"). The
// first shared view tells which this runtime is; where it is refused, each
// record is copied into a private scratch buffer and decoded there.

import type { CommitFlags } from './constants.js';
import { RingBufferTypeError, checkFlags, checkTimeout, checkWaitOptions, describeValue, viewBytes } from './errors.js';
import { RingBuffer, type WaitForRoomOptions } from './ring-buffer.js';

/**
 * What text and JSON records can be written through: a `RingBuffer`, or a
 * `PerfBufferProducer` (which cannot wait for room: pass `timeoutMs` 0).
 */
export interface RecordProducer {
  readonly bytes: Uint8Array;
  readonly maxRecord: number;
  reserveRaw(len: number): number;
  submitRaw(offset: number, flags?: CommitFlags | number): void;
  discardRaw(offset: number, flags?: CommitFlags | number): void;
  /** Present on a `RingBuffer`: used when `timeoutMs` is not 0. */
  reserveRawBlocking?(len: number, timeoutMs?: number): number;
}

/** Strings of at most this many UTF-16 units are encoded through the scratch buffer. */
const SCRATCH_UNITS = 8192;

const encoder = new TextEncoder();
// ignoreBOM: a record that begins with U+FEFF keeps it (the default would strip it)
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
let encodeScratch: Uint8Array | undefined;
let decodeScratch = new Uint8Array(0);
/** Whether this runtime's TextDecoder accepts views of shared memory (undefined: not tried yet). */
let decodesShared: boolean | undefined;
/** Whether this runtime's TextEncoder.encodeInto() writes into views of shared memory (undefined: not tried yet). */
let encodesShared: boolean | undefined;

function encodesIntoShared(): boolean {
  if (encodesShared === undefined) {
    try {
      encoder.encodeInto('', new Uint8Array(new SharedArrayBuffer(1)));
      encodesShared = true;
    } catch {
      encodesShared = false;
    }
  }
  return encodesShared;
}

/**
 * The exact number of bytes `text` takes in UTF-8, as `TextEncoder` writes it
 * (a lone surrogate becomes U+FFFD, 3 bytes). One pass over the string.
 */
export function utf8Length(text: string): number {
  checkText(text, 'utf8Length()');
  const n = text.length;
  let bytes = n;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if ((c & 0xfc00) === 0xd800 && i + 1 < n && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      i++; // a surrogate pair: 4 bytes for 2 units
      bytes += 2;
    } else bytes += 2; // the rest of the BMP, and lone surrogates (U+FFFD)
  }
  return bytes;
}

function checkText(text: unknown, call: string): asserts text is string {
  if (typeof text !== 'string') {
    throw new RingBufferTypeError(`${call} takes a string; got ${describeValue(text)}`, 'ERR_RINGBUF_TYPE');
  }
}

/** Checks that `producer` has what writeText() uses: a RingBuffer, a PerfBufferProducer or another RecordProducer. */
function checkProducer(producer: unknown, call: string): asserts producer is RecordProducer {
  const p = producer as RecordProducer | null;
  if (
    typeof p === 'object' &&
    p !== null &&
    p.bytes instanceof Uint8Array &&
    typeof p.reserveRaw === 'function' &&
    typeof p.submitRaw === 'function' &&
    typeof p.discardRaw === 'function'
  )
    return;
  throw new RingBufferTypeError(
    `${call} writes through a RingBuffer or a PerfBufferProducer (a RecordProducer); got ${describeValue(producer)}`,
    'ERR_RINGBUF_TYPE',
  );
}

/** Checks that `ring` is a RingBuffer, which the writers that wait without blocking need. */
function checkRing(ring: unknown, call: string): asserts ring is RingBuffer {
  if (ring instanceof RingBuffer) return;
  throw new RingBufferTypeError(
    `${call} writes through a RingBuffer (a PerfBufferProducer cannot wait for room: use writeText() with ` +
      `timeoutMs 0); got ${describeValue(ring)}`,
    'ERR_RINGBUF_TYPE',
  );
}

function reserveFor(producer: RecordProducer, len: number, timeoutMs: number): number {
  if (timeoutMs === 0) return producer.reserveRaw(len);
  if (typeof producer.reserveRawBlocking !== 'function') {
    throw new RingBufferTypeError(
      'this producer cannot wait for room: pass timeoutMs 0, or write through a RingBuffer',
      'ERR_RINGBUF_TYPE',
    );
  }
  return producer.reserveRawBlocking(len, timeoutMs);
}

/**
 * Writes `text` as one UTF-8 record and submits it with `flags`. With
 * `timeoutMs` 0 (the default) it does not wait: `false` when the ring has no
 * room now (counted in `stats().dropped`, as `reserve()`); otherwise it waits
 * for room as `reserveBlocking()` does (-1: without end), `false` only on
 * timeout. Throws, leaving the ring untouched, when the text can never fit
 * (more UTF-8 bytes than `maxRecord`) or `flags` is unknown.
 */
export function writeText(
  producer: RecordProducer,
  text: string,
  flags: CommitFlags | number = 0,
  timeoutMs = 0,
): boolean {
  checkProducer(producer, 'writeText()');
  checkText(text, 'writeText()');
  checkFlags(flags);
  checkTimeout(timeoutMs);
  let bytes: Uint8Array;
  let len: number;
  if (text.length <= SCRATCH_UNITS) {
    bytes = encodeScratch ??= new Uint8Array(SCRATCH_UNITS * 3);
    len = encoder.encodeInto(text, bytes).written;
  } else if (encodesIntoShared()) {
    len = utf8Length(text);
    const offset = reserveFor(producer, len, timeoutMs);
    if (offset === 0) return false;
    fill(producer, offset, () => encoder.encodeInto(text, producer.bytes.subarray(offset, offset + len)));
    producer.submitRaw(offset, flags);
    return true;
  } else {
    bytes = encoder.encode(text);
    len = bytes.length;
  }
  const offset = reserveFor(producer, len, timeoutMs);
  if (offset === 0) return false;
  producer.bytes.set(bytes.subarray(0, len), offset);
  producer.submitRaw(offset, flags);
  return true;
}

/** Runs `write` on a reservation; if it throws, discards the record (so that no consumer waits on it), rethrows. */
function fill(producer: RecordProducer, offset: number, write: () => unknown): void {
  try {
    write();
  } catch (err) {
    producer.discardRaw(offset);
    throw err;
  }
}

/**
 * As `writeText()`, waiting for room without blocking the thread
 * (`reserveAsync()`; for a page's main thread): resolves to `false` only on
 * timeout, rejects with the signal's reason when it aborts. The text is
 * encoded straight into the reservation where the platform allows it.
 */
export async function writeTextAsync(
  ring: RingBuffer,
  text: string,
  flags: CommitFlags | number = 0,
  options: WaitForRoomOptions = {},
): Promise<boolean> {
  checkRing(ring, 'writeTextAsync()');
  checkText(text, 'writeTextAsync()');
  checkFlags(flags);
  checkWaitOptions(options, 'writeTextAsync()');
  if (!encodesIntoShared()) return ring.outputAsync(encoder.encode(text), flags, options);
  const r = await ring.reserveAsync(utf8Length(text), options);
  if (r === null) return false;
  try {
    encoder.encodeInto(text, r.data);
  } catch (err) {
    r.discard(); // no consumer may wait on a record nobody will commit
    throw err;
  }
  r.submit(flags);
  return true;
}

function stringify(value: unknown, call: string): string {
  const text = JSON.stringify(value);
  if (typeof text !== 'string') {
    throw new RingBufferTypeError(
      `${call} takes a value JSON can represent (not undefined, a function or a symbol); got ${describeValue(value)}`,
      'ERR_RINGBUF_TYPE',
    );
  }
  return text;
}

/**
 * Writes `JSON.stringify(value)` as one UTF-8 record: `writeText()` of it,
 * with the same `flags`, `timeoutMs` and results. Throws a
 * `RingBufferTypeError` for a value JSON cannot represent (`undefined`, a
 * function), and JSON.stringify's own errors (a cycle, a BigInt).
 */
export function writeJSON(
  producer: RecordProducer,
  value: unknown,
  flags: CommitFlags | number = 0,
  timeoutMs = 0,
): boolean {
  checkProducer(producer, 'writeJSON()');
  return writeText(producer, stringify(value, 'writeJSON()'), flags, timeoutMs);
}

/** As `writeJSON()`, waiting for room as `writeTextAsync()` does. */
export function writeJSONAsync(
  ring: RingBuffer,
  value: unknown,
  flags: CommitFlags | number = 0,
  options: WaitForRoomOptions = {},
): Promise<boolean> {
  try {
    checkRing(ring, 'writeJSONAsync()');
    return writeTextAsync(ring, stringify(value, 'writeJSONAsync()'), flags, options);
  } catch (err) {
    return Promise.reject(err);
  }
}

/**
 * Decodes a record's bytes as UTF-8 (malformed bytes become U+FFFD; a leading
 * BOM is kept). `data` is a Uint8Array, such as a consumer's view of a
 * record, or another ArrayBufferView (a typed array or a DataView: its bytes
 * are read). Safe on a view of shared memory in every runtime: where
 * `TextDecoder` refuses shared views (browsers), the bytes are copied into a
 * private scratch buffer first.
 */
export function readText(data: ArrayBufferView): string {
  return decode(viewBytes(data, 'readText()'));
}

function decode(data: Uint8Array): string {
  const shared = typeof SharedArrayBuffer === 'function' && data.buffer instanceof SharedArrayBuffer;
  if (!shared) return decoder.decode(data);
  if (decodesShared === undefined) {
    try {
      const text = decoder.decode(data);
      decodesShared = true;
      return text;
    } catch {
      decodesShared = false;
    }
  }
  if (decodesShared) return decoder.decode(data);
  if (decodeScratch.length < data.length) {
    decodeScratch = new Uint8Array(Math.max(data.length, decodeScratch.length * 2, 256));
  }
  decodeScratch.set(data);
  return decoder.decode(decodeScratch.subarray(0, data.length));
}

/**
 * `JSON.parse(readText(data))`: a record written by `writeJSON()`; `data` as
 * for `readText()`. Throws JSON.parse's SyntaxError on bad JSON.
 */
export function readJSON<T = unknown>(data: ArrayBufferView): T {
  return JSON.parse(decode(viewBytes(data, 'readJSON()'))) as T;
}
