// Counts the wasm calls a ring makes: what one record costs in crossings.
import type { RingBuffer } from 'wasm-ringbuf';

/**
 * Replaces `rb.core.wasm` with counting wrappers (the exports object is frozen, so
 * a plain object stands in for it). `calls` counts by export name, `order`
 * lists every call, `declined.outputAt` counts the outputAt calls that returned 0.
 */
export function countCalls(rb: RingBuffer) {
  const calls: Record<string, number> = {};
  const order: string[] = [];
  const declined = { outputAt: 0 };
  const real = rb.core.wasm;
  const counting = Object.fromEntries(
    Object.entries(real).map(([name, f]) => [
      name,
      typeof f !== 'function'
        ? f
        : (...args: number[]) => {
            calls[name] = (calls[name] ?? 0) + 1;
            order.push(name);
            const result = (f as (...a: number[]) => number)(...args);
            if (name === 'outputAt' && result === 0) declined.outputAt++;
            return result;
          },
    ]),
  ) as typeof real;
  (rb.core as { wasm: typeof real }).wasm = counting;
  return { calls, order, declined };
}
