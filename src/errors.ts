// Every error the package throws, and every check of user input, in one
// place. Each error has a stable `name` and `code`, and a message that says
// what was wrong and what to do instead. "No room now" is never an error:
// reserve() returns null, output() false.

import { BPF_RB_FORCE_WAKEUP, BPF_RB_NO_WAKEUP } from './generated/layout.js';

/**
 * The `code` of every error this package throws (docs/errors.md lists when each is thrown).
 */
export type RingBufferErrorCode =
  | 'ERR_RINGBUF_TYPE' // an argument of the wrong type
  | 'ERR_RINGBUF_RANGE' // a number out of range
  | 'ERR_RINGBUF_SIZE' // a ring size that is not a power of two from 4096 to 2^30
  | 'ERR_RINGBUF_FLAGS' // unknown commit flag bits
  | 'ERR_RINGBUF_QUERY' // an unknown query key
  | 'ERR_RINGBUF_HANDLE' // not a ring's (or perf buffer's, or shards') handle
  | 'ERR_RINGBUF_NOT_ISOLATED' // no shared memory: the page is not cross-origin isolated
  | 'ERR_RINGBUF_NO_SHARED_MEMORY' // no shared memory: this engine has no SharedArrayBuffer or shared wasm memory
  | 'ERR_RINGBUF_COMMITTED' // a reservation committed twice, or an offset never reserved
  | 'ERR_RINGBUF_PRODUCER' // reapProducer() of an id that cannot be reaped
  | 'ERR_RINGBUF_REAPED' // a call on a producer that another thread reaped
  | 'ERR_RINGBUF_CLOSED' // a call on a closed producer or consumer
  | 'ERR_RINGBUF_PENDING' // close() of a producer with records still reserved
  | 'ERR_RINGBUF_SLOT' // a perf buffer slot that already has a producer
  | 'ERR_RINGBUF_UNORDERED' // an ordered merge of a buffer created with ordered: false
  | 'ERR_RINGBUF_DUPLICATE' // the same ring added twice to one consumer
  | 'ERR_RINGBUF_CONSUMER_TAKEN' // a second consumer on a ring that has one
  | 'ERR_RINGBUF_NO_RINGS' // poll() on a consumer with no rings
  | 'ERR_RINGBUF_POLL' // pollSync() on a consumer of several rings
  | 'ERR_RINGBUF_POLL_PENDING' // a second poll() while one is pending
  | 'ERR_RINGBUF_CANNOT_BLOCK' // a blocking call on a thread that may not block (a page's main thread)
  | 'ERR_RINGBUF_NO_WAIT' // no Atomics.waitAsync and no Worker to stand in for it
  | 'ERR_RINGBUF_CORRUPT'; // the shared memory contradicts the protocol

/** A number out of range: a size, length, flag set, position or timeout. */
export class RingBufferRangeError extends RangeError {
  override readonly name = 'RingBufferRangeError';
  constructor(
    message: string,
    readonly code: RingBufferErrorCode,
  ) {
    super(message);
  }
}

/** An argument of the wrong type, or a handle that is not a ring's handle. */
export class RingBufferTypeError extends TypeError {
  override readonly name = 'RingBufferTypeError';
  constructor(
    message: string,
    readonly code: RingBufferErrorCode,
  ) {
    super(message);
  }
}

/** A call that the object's state does not allow, such as committing a reservation twice. */
export class RingBufferStateError extends Error {
  override readonly name = 'RingBufferStateError';
  constructor(
    message: string,
    readonly code: RingBufferErrorCode,
  ) {
    super(message);
  }
}

/** The shared memory contradicts the protocol: a header or position was overwritten. */
export class RingBufferCorruptError extends Error {
  override readonly name = 'RingBufferCorruptError';
  readonly code = 'ERR_RINGBUF_CORRUPT' as const;
  constructor(
    message: string,
    /** The consumer position at which the contradiction was found. */
    readonly position: number,
  ) {
    super(message);
  }
}

/** A short description of a bad value for an error message. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  if (value === null || typeof value !== 'object') return String(value);
  return Object.prototype.toString.call(value).slice(8, -1);
}

/** The error of an argument of the wrong type: "`what` must be `expected`; got ...". */
export function typeError(what: string, expected: string, value: unknown): RingBufferTypeError {
  return new RingBufferTypeError(`${what} must be ${expected}; got ${describeValue(value)}`, 'ERR_RINGBUF_TYPE');
}

/** Checks that `value` is a non-negative integer no larger than `max`; `what` names it. */
export function checkInteger(value: unknown, what: string, max: number, hint: string): asserts value is number {
  if (typeof value !== 'number') throw typeError(what, 'a number', value);
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RingBufferRangeError(
      `${what} must be an integer from 0 to ${max}; got ${describeValue(value)}. ${hint}`,
      'ERR_RINGBUF_RANGE',
    );
  }
}

/** As checkInteger(), and at least 1. */
export function checkPositive(value: unknown, what: string, max: number, hint: string): asserts value is number {
  checkInteger(value, what, max, hint);
  if (value === 0) throw new RingBufferRangeError(`${what} must be at least 1; got 0. ${hint}`, 'ERR_RINGBUF_RANGE');
}

export function checkBoolean(value: unknown, what: string): asserts value is boolean {
  if (typeof value !== 'boolean') throw typeError(what, 'a boolean', value);
}

export function checkFunction(value: unknown, what: string): asserts value is (...args: never[]) => unknown {
  if (typeof value !== 'function') throw typeError(what, 'a function', value);
}

export function checkOptions(value: unknown, call: string, example: string): asserts value is object {
  if (value === null || typeof value !== 'object') {
    throw new RingBufferTypeError(
      `${call} takes an options object such as ${example}; got ${describeValue(value)}`,
      'ERR_RINGBUF_TYPE',
    );
  }
}

/** %TypedArray%.prototype.indexOf: it throws on a view whose memory is gone, and reads nothing of an empty one. */
const typedIndexOf = (Object.getPrototypeOf(Uint8Array.prototype) as TypedArrayProto).indexOf;
interface TypedArrayProto {
  indexOf(this: ArrayBufferView, x: number): number;
}

/**
 * Whether `view`, which reads as empty, lost its memory: its buffer was
 * detached (transferred, as by `structuredClone(buf, { transfer: [buf] })`)
 * or shrunk below it. Such a view reads as 0 bytes long, and copying from it
 * throws. Call it only for a view of length 0: it costs nothing then.
 */
export function viewIsGone(view: ArrayBufferView): boolean {
  try {
    if (view instanceof DataView) void view.byteLength;
    else typedIndexOf.call(view, 0);
    return false;
  } catch {
    return true;
  }
}

/**
 * The bytes of `value`, an ArrayBufferView, as a Uint8Array (`value` itself
 * when it is one); throws for anything else and for a view whose memory is
 * gone. `call` names the function in the message.
 */
export function viewBytes(value: unknown, call: string): Uint8Array {
  if (value instanceof Uint8Array) {
    if (value.length === 0 && viewIsGone(value)) throw goneError(call);
    return value;
  }
  if (!ArrayBuffer.isView(value)) {
    throw new RingBufferTypeError(
      `${call} takes a Uint8Array or another ArrayBufferView (a typed array or a DataView); ` +
        `got ${describeValue(value)}`,
      'ERR_RINGBUF_TYPE',
    );
  }
  let n: number;
  try {
    n = value.byteLength; // a DataView whose memory is gone throws here
  } catch {
    throw goneError(call);
  }
  if (n === 0 && viewIsGone(value)) throw goneError(call);
  return new Uint8Array(value.buffer, value.byteOffset, n);
}

/** The error of a view whose buffer was detached or shrunk. */
export function goneError(call: string): RingBufferTypeError {
  return new RingBufferTypeError(
    `${call} was given a view whose buffer was transferred away (detached) or shrunk below it, so it has no bytes: ` +
      'pass the bytes before transferring their buffer, or a copy of them',
    'ERR_RINGBUF_TYPE',
  );
}

const KNOWN_FLAGS = BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP;

/**
 * Commit flags, checked as the kernel does (`flags & ~(NO_WAKEUP | FORCE_WAKEUP)`):
 * 0 (adaptive), BPF_RB_NO_WAKEUP, BPF_RB_FORCE_WAKEUP, or both (FORCE wins).
 */
export function checkFlags(flags: unknown): asserts flags is number {
  // the hot path: no message is built for good flags
  if (typeof flags === 'number' && (flags & ~KNOWN_FLAGS) === 0 && (flags | 0) === flags) return;
  if (typeof flags !== 'number') throw typeError('flags', 'a number', flags);
  throw new RingBufferRangeError(
    `unknown commit flags ${describeValue(flags)}: ` +
      'use 0 (adaptive wakeup), BPF_RB_NO_WAKEUP (1), BPF_RB_FORCE_WAKEUP (2), or both',
    'ERR_RINGBUF_FLAGS',
  );
}

/** A record length: an integer from 0 to `max` (the ring's largest payload). */
export function checkLength(len: unknown, max: number): asserts len is number {
  // the hot path: no message is built (and nothing allocated) for a good length
  if (typeof len === 'number' && len >>> 0 === len && len <= max) return;
  checkInteger(
    len,
    'record length',
    max,
    `This ring's largest payload is ${max} bytes; create a larger ring (size) or raise maxRecord.`,
  );
}

/** An offset from `reserveRaw()` for `submitRaw()` / `discardRaw()`: a number (pending or not is checked there). */
export function checkOffset(offset: unknown): asserts offset is number {
  if (typeof offset !== 'number') throw typeError('offset', 'a number returned by reserveRaw()', offset);
}

/** A timeout: -1 (without end), 0 (do not wait) or a positive number of milliseconds. */
export function checkTimeout(timeoutMs: unknown): asserts timeoutMs is number {
  if (typeof timeoutMs !== 'number') throw typeError('timeoutMs', 'a number', timeoutMs);
  if (!(timeoutMs >= 0 || timeoutMs === -1)) {
    throw new RingBufferRangeError(
      `timeoutMs must be -1 (wait without end), 0 (do not wait) or a positive number of milliseconds; got ${timeoutMs}`,
      'ERR_RINGBUF_RANGE',
    );
  }
}

/** A number of at least 0 (Infinity allowed): a duration, a queue's size; `what` names it. */
export function checkNonNegative(value: unknown, what: string): asserts value is number {
  if (typeof value !== 'number') throw typeError(what, 'a number', value);
  if (!(value >= 0)) throw new RingBufferRangeError(`${what} must be 0 or more; got ${value}`, 'ERR_RINGBUF_RANGE');
}

/** The options object of the waits for room: `reserveAsync()`, `outputAsync()`, `writeTextAsync()`. */
export function checkWaitOptions(options: unknown, call: string): void {
  checkOptions(options, call, '{ timeoutMs: 100, signal }');
  const { timeoutMs = -1, signal } = options as { timeoutMs?: unknown; signal?: unknown };
  checkTimeout(timeoutMs);
  checkSignal(signal);
}

/** A record count for consumeN(): a non-negative integer, or Infinity. */
export function checkCount(n: unknown): asserts n is number {
  if (typeof n !== 'number') throw typeError('n', 'a number', n);
  if (!(n >= 0 && (Number.isInteger(n) || n === Infinity))) {
    throw new RingBufferRangeError(`n must be a non-negative integer (or Infinity); got ${n}`, 'ERR_RINGBUF_RANGE');
  }
}

/** An AbortSignal, or undefined. */
export function checkSignal(signal: unknown): asserts signal is AbortSignal | undefined {
  if (signal === undefined) return;
  if (
    !(
      typeof signal === 'object' &&
      signal !== null &&
      'aborted' in signal &&
      typeof (signal as AbortSignal).addEventListener === 'function'
    )
  ) {
    throw typeError('signal', 'an AbortSignal (such as AbortSignal.timeout(100))', signal);
  }
}

/** The error of a call on something closed. */
export function closedError(what: string, instead: string): RingBufferStateError {
  return new RingBufferStateError(`this ${what} was closed: ${instead}`, 'ERR_RINGBUF_CLOSED');
}

/** The error of a write by a producer that was reaped. */
export function reapedError(id: number): RingBufferStateError {
  return new RingBufferStateError(
    `this producer (id ${id}) was reaped by reapProducer(), so it may not write again: its id may belong to ` +
      'a new producer now. Reap a producer only once its thread is gone; attach again for a new id.',
    'ERR_RINGBUF_REAPED',
  );
}

/** The error of a blocking call on a thread that may not block. */
export function cannotBlockError(call: string, instead: string): RingBufferStateError {
  return new RingBufferStateError(
    `${call} blocks the thread, and this thread may not block (a browser page's main thread): ` +
      `use ${instead}, or call it from a worker`,
    'ERR_RINGBUF_CANNOT_BLOCK',
  );
}
