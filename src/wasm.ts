// Compiles the ring's wasm module once per thread and instantiates it over a
// ring's shared memory. The only module that touches @assemblyscript/loader,
// so that a switch to raw bindings changes this file alone.
import { instantiate } from '@assemblyscript/loader';
import { WASM_BASE64 } from './generated/wasm-binary.js';

/**
 * The exports of assembly/index.ts (the protocol; doc comments there).
 * Positions cross the boundary as f64, exact below 2^53; booleans as 0 or 1.
 */
export interface RingWasm extends Record<string, unknown> {
  init(ctl: number, size: number, maxRecord: number, flags: number, start: number): void;
  acquireId(ctl: number): number;
  releaseId(ctl: number, id: number): void;
  /** `opts`: RESERVE_CAN_BLOCK | RESERVE_QUIET. */
  reserve(ctl: number, len: number, id: number, opts: number): number;
  /** output() in one call on a single-producer ring: the payload is already at `sample` (0: reserve the usual way). */
  outputAt(ctl: number, sample: number, len: number, id: number, flags: number): number;
  commit(ctl: number, sample: number, flags: number, discard: number): number;
  wake(ctl: number, force: number): number;
  query(ctl: number, key: number): number;
  producerPos(ctl: number): number;
  /** `room`: also wake the producers waiting for room. */
  advanceConsumer(ctl: number, from: number, to: number, drops: number, room: number): number;
  reap(ctl: number, id: number, self: number, canBlock: number): number;
  /** A producer that waits for room announces itself (ROOM_WAITERS and its id's bit); returns ROOM_SEQ. */
  roomAnnounce(ctl: number, id: number): number;
  roomLeave(ctl: number, id: number): void;
  producerCounter(ctl: number, id: number, which: number): number;
  countRefusal(ctl: number, id: number): void;
  /** The u64 counter at an OFF_* offset of the control block. */
  counter(ctl: number, offset: number): number;
}

let compiled: Promise<WebAssembly.Module> | undefined;

function decode(base64: string): Uint8Array<ArrayBuffer> {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/** The compiled module, shared by every ring this thread creates. */
export function compileModule(): Promise<WebAssembly.Module> {
  compiled ??= WebAssembly.compile(decode(WASM_BASE64));
  return compiled;
}

/** Instantiates `module` over `memory` (both may have come from another thread). */
export async function instantiateRing(module: WebAssembly.Module, memory: WebAssembly.Memory): Promise<RingWasm> {
  // The raw exports, not the loader's demangled wrappers: every export takes
  // and returns plain numbers, and a wrapper per call costs time (and, where
  // it is not inlined, an arguments array).
  const { instance } = await instantiate<RingWasm>(module, { env: { memory } });
  return instance.exports as unknown as RingWasm;
}

/**
 * Whether this thread may block in Atomics.wait: false on a browser page's
 * main thread, where producers spin on a held lock instead of sleeping.
 */
export const canBlock: boolean = (() => {
  const g = globalThis as { window?: unknown; document?: unknown };
  return !(typeof g.window === 'object' && typeof g.document === 'object');
})();
