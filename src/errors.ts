// Every error the package throws, in one place. Each has a stable `name` and
// `code`, and a message that says what was wrong and what to do instead.
// "No room now" is never an error: reserve() returns null, output() false.

/** A number out of range: a size, length, flag set, position or timeout. */
export class RingBufferRangeError extends RangeError {
  override readonly name = 'RingBufferRangeError';
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** An argument of the wrong type, or a handle that is not a ring's handle. */
export class RingBufferTypeError extends TypeError {
  override readonly name = 'RingBufferTypeError';
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** A call that the object's state does not allow, such as committing a reservation twice. */
export class RingBufferStateError extends Error {
  override readonly name = 'RingBufferStateError';
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** The shared memory contradicts the protocol: a header or position was overwritten. */
export class RingBufferCorruptError extends Error {
  override readonly name = 'RingBufferCorruptError';
  constructor(
    message: string,
    readonly code: string,
    /** The consumer position at which the contradiction was found. */
    readonly position: number,
  ) {
    super(message);
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value === null || typeof value !== 'object') return String(value);
  return Object.prototype.toString.call(value).slice(8, -1);
}

/** Checks that `value` is a non-negative integer no larger than `max`; `what` names it. */
export function checkInteger(value: unknown, what: string, max: number, hint: string): asserts value is number {
  if (typeof value !== 'number') {
    throw new RingBufferTypeError(`${what} must be a number; got ${describe(value)}`, 'ERR_RINGBUF_TYPE');
  }
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RingBufferRangeError(
      `${what} must be an integer from 0 to ${max}; got ${describe(value)}. ${hint}`,
      'ERR_RINGBUF_RANGE',
    );
  }
}

/** Commit flags: 0, BPF_RB_NO_WAKEUP (1) or BPF_RB_FORCE_WAKEUP (2). */
export function checkFlags(flags: unknown): asserts flags is number {
  if (typeof flags !== 'number') {
    throw new RingBufferTypeError(`flags must be a number; got ${describe(flags)}`, 'ERR_RINGBUF_TYPE');
  }
  if (flags !== 0 && flags !== 1 && flags !== 2) {
    throw new RingBufferRangeError(
      `unknown commit flags ${describe(flags)}: use 0 (adaptive wakeup), BPF_RB_NO_WAKEUP (1) or BPF_RB_FORCE_WAKEUP (2)`,
      'ERR_RINGBUF_FLAGS',
    );
  }
}

/** A record length: an integer from 0 to `max` (the ring's largest payload). */
export function checkLength(len: unknown, max: number): asserts len is number {
  // the hot path: no message is built (and nothing allocated) for a good length
  if (typeof len === 'number' && (len >>> 0) === len && len <= max) return;
  checkInteger(
    len,
    'record length',
    max,
    `This ring's largest payload is ${max} bytes; create a larger ring (size) or raise maxRecord.`,
  );
}

export { describe as describeValue };
