// Per-producer buffers: the control memory beside the rings. The design (the
// kernel's per-CPU perf buffer, one single-producer ring per producer, merged
// back into one order by a stamp) is in docs/perfbuf.md; the producer is in
// producer.ts, the merge in merge.ts, the buffer that ties them in buffer.ts.
//
// The control memory (an Int32Array over a SharedArrayBuffer, beside the rings):
//
//  byte    0 +----------------------------------------------------------+
//            | line 0, written once: MAGIC | VERSION | PRODUCERS | FLAGS |
//            | HELD: the consumer went to sleep with records held back  |
//            |       by the watermark (set and cleared by the consumer) |
//  byte   64 +-- line 1: COUNTER, the stamp counter (+2 per record) ----+
//  byte  128 +-- line 2 + k, one per producer k: -----------------------+
//            | LOW u32: IDLE (1), or an even lower bound of the stamp   |
//            |          of every record producer k has not committed    |
//            | OWNER u32: producer id of the thread attached to slot k  |
//            |            (0 = free)                                    |
//            +----------------------------------------------------------+
//
// A record of an ordered buffer: the ring's 8-byte header, then an 8-byte
// prefix the user never sees, then the user's `len` bytes:
//
//   prefix word 0: STAMP, the COUNTER value this record took (even, wraps at 2^32)
//   prefix word 1: the producer's slot k
//
// Stamps are 32-bit and compared by their signed difference (serial-number
// arithmetic, as TCP sequence numbers). That is exact while every stamp still
// in a ring is within 2^31 counter steps of COUNTER. Two rules keep it so:
// create() bounds the records all rings can hold together, and a producer
// refuses a reservation (counted in its ring's `dropped`) that would take a
// stamp STAMP_BOUND steps or more past the oldest open reservation (the lowest
// LOW), which discarded records could otherwise push without end.
export const PB_MAGIC = 0x42505046; // "FPPB"
export const PB_VERSION = 2;
// line 0 (Int32 indexes)
export const W_MAGIC = 0;
export const W_VERSION = 1;
export const W_PRODUCERS = 2;
export const W_FLAGS = 3;
/** FLAGS: records carry a stamp (ordered buffer). */
export const FLAG_ORDERED = 0x1;
/** 1 while the consumer sleeps (or is about to) with a committed record held back by the watermark. */
export const W_HELD = 4;
// line 1
export const W_COUNTER = 16;
// line 2 + k
export const W_SLOTS = 32;
export const SLOT_WORDS = 16; // one 64-byte line per producer
export const SLOT_LOW = 0;
export const SLOT_OWNER = 1;
/** LOW of a producer with nothing reserved. Stamps are even, so an odd LOW is never a bound. */
export const IDLE = 1;
/** COUNTER step: stamps stay even. */
export const STAMP_STEP = 2;
/** Bytes of the hidden prefix of an ordered buffer's records. */
export const PREFIX = 8;
export const MAX_PRODUCERS = 256;
/** Records all rings together may hold: far inside the 2^30 records of the signed stamp window. */
export const MAX_RECORDS_HELD = 2 ** 28;
/** A stamp this far (in counter steps) past the lowest LOW is refused: half the signed window. */
export const STAMP_BOUND = 2 ** 30;
/** A producer re-reads every LOW once its cached floor is this far behind COUNTER. */
export const FLOOR_STALE = 2 ** 29;

export function controlBytes(producers: number): number {
  return 4 * (W_SLOTS + producers * SLOT_WORDS);
}
