// A structured logger that writes each line into the ring as one JSON record
// (writeJSON: UTF-8, encoded straight into the reservation's room). The
// fields are pino's (level, time, pid, hostname, msg), so that the file the
// pipeline writes reads like a pino log.
//
// `wait: true` (the default): a full ring makes the logging thread wait for
// room (reserveBlocking), so nothing is lost and a slow file slows the
// producers down. `wait: false`: a full ring drops the line and counts it, and
// the consumer reports the loss in the file where it happened.
import { hostname } from 'node:os';
import { writeJSON } from 'wasm-ringbuf';

export const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

/**
 * @param {import('wasm-ringbuf').RingBuffer} rb
 * @param {{ wait?: boolean, bindings?: object }} [options]
 */
export function ringLogger(rb, { wait = true, bindings = {} } = {}) {
  const base = { pid: process.pid, hostname: hostname(), ...bindings };
  const timeoutMs = wait ? -1 : 0;
  let dropped = 0;
  const log = (level) => (fields, msg) => {
    const line = { level, time: Date.now(), ...base, ...fields, msg };
    if (!writeJSON(rb, line, 0, timeoutMs)) dropped++;
  };
  return {
    trace: log(LEVELS.trace),
    debug: log(LEVELS.debug),
    info: log(LEVELS.info),
    warn: log(LEVELS.warn),
    error: log(LEVELS.error),
    fatal: log(LEVELS.fatal),
    /** Lines this logger could not write (wait: false and the ring full). */
    get dropped() {
      return dropped;
    },
  };
}
