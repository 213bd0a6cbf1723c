// The TypeScript mirror of assembly/layout.ts (the memory map is drawn there).
// test/unit/layout.test.ts checks that every number here equals its twin.

export const MAGIC = 0x42505252;
export const VERSION = 1;
export const RING_BASE = 65536;

export const OFF_MAGIC = 0;
export const OFF_VERSION = 4;
export const OFF_SIZE = 8;
export const OFF_MASK = 12;
export const OFF_FLAGS = 16;
export const OFF_MAX_RECORD = 20;
export const OFF_NEXT_PRODUCER = 24;
export const OFF_LOCK = 64;
export const OFF_PENDING_POS = 72;
export const OFF_DROPPED = 80;
export const OFF_OVERWRITE_POS = 88;
export const OFF_OVERWRITTEN = 96;
export const OFF_PRODUCER_POS = 128;
export const OFF_CONSUMER_POS = 192;
export const OFF_CONSUMER_DROPS = 200;
export const OFF_WAIT = 256;
export const OFF_DISCARDED = 320;
export const OFF_WAKEUPS = 328;
export const OFF_LOCK_WAITS = 336;
export const OFF_REAPED = 344;
export const OFF_PRODUCERS = 4096;
export const PRODUCER_ENTRY = 8;
export const ENTRY_DROPPED = 0;
export const ENTRY_DISCARDED = 4;
export const DATA_OFFSET = 36864;

export const HDR_SIZE = 8;
export const BUSY_BIT = 0x80000000;
export const DISCARD_BIT = 0x40000000;
export const LEN_MASK = 0x3fffffff;
export const ID_SHIFT = 20;
export const DROPS_MASK = 0x000fffff;
export const MAX_PRODUCER_ID = 0xfff;
export const LOCK_HELD = 0x00001000;
export const LOCK_CONTENDED = 0x80000000;
export const FLAG_CLAIM = 0x1;
export const FLAG_OVERWRITE = 0x2;
export const FLAG_SINGLE = 0x4;

export const BPF_RB_NO_WAKEUP = 1;
export const BPF_RB_FORCE_WAKEUP = 2;
export const BPF_RB_AVAIL_DATA = 0;
export const BPF_RB_RING_SIZE = 1;
export const BPF_RB_CONS_POS = 2;
export const BPF_RB_PROD_POS = 3;
export const BPF_RB_OVERWRITE_POS = 4;
export const LOCK_SPINS = 4096;
export const REAP_LOCK_RECOVERED = 0x80000000;

/** Smallest ring, the kernel's rule (one page). */
export const MIN_SIZE = 4096;
/** Largest ring: data area plus a full overhang must fit in a 4 GiB wasm32 memory. */
export const MAX_SIZE = 2 ** 30;
const WASM_PAGE = 65536;

/** Bytes a record of `len` payload bytes takes in the ring: header plus payload, rounded to 8. */
export function recordStride(len: number): number {
  return (len + HDR_SIZE + 7) & ~7;
}

/** Wasm pages for a ring of `size` bytes whose largest payload is `maxRecord`, at `ctl`. */
export function memoryPages(ctl: number, size: number, maxRecord: number): number {
  return Math.ceil((ctl + DATA_OFFSET + size + recordStride(maxRecord)) / WASM_PAGE);
}
