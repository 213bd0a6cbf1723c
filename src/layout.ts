// The memory map's numbers come from assembly/layout.ts (generated into
// src/generated/layout.ts by scripts/gen-layout.mjs); what only the host
// needs is added here.
import { DATA_OFFSET, HDR_SIZE } from './generated/layout.js';

export * from './generated/layout.js';

/** Smallest ring, the kernel's rule (one page). */
export const MIN_SIZE = 4096;
/** Largest ring: data area plus a full overhang must fit in a 4 GiB wasm32 memory. */
export const MAX_SIZE = 2 ** 30;
const WASM_PAGE = 65536;

/** Bytes a record of `len` payload bytes takes in the ring: header plus payload, rounded to 8. */
export function recordStride(len: number): number {
  return (len + HDR_SIZE + 7) & ~7;
}

/**
 * Staging bytes after the overhang: STAGE_BYTES for each producer id below
 * STAGE_IDS, where its reservations of small records are filled and copied
 * in by the commit (src/reservation.ts). Only the producer holding the id
 * writes them; producers with higher ids fill the ring directly.
 */
export const STAGE_IDS = 64;
export const STAGE_BYTES = 256;

/** Where the staging bytes of a ring at `ctl` begin. */
export function stagingBase(ctl: number, size: number, maxRecord: number): number {
  return (ctl + DATA_OFFSET + size + recordStride(maxRecord) + 63) & ~63;
}

/** Wasm pages for a ring of `size` bytes whose largest payload is `maxRecord`, at `ctl`. */
export function memoryPages(ctl: number, size: number, maxRecord: number): number {
  return Math.ceil((stagingBase(ctl, size, maxRecord) + STAGE_IDS * STAGE_BYTES) / WASM_PAGE);
}
