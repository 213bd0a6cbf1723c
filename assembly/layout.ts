// The memory map of one ring, and the one source of truth for its numbers:
// scripts/gen-layout.mjs derives src/generated/layout.ts from this file at
// build time (each constant a plain literal, with its doc comment).
//
// A ring lives in one shared WebAssembly.Memory. The host picks the address of
// its control block (`ctl`, RING_BASE by default, far above __heap_base: this
// module has no static data and no heap) and passes it to every call.
//
//  ctl +    0 ┌──────────────────────────────────────────────────────────────┐
//             │ line 0, written once by init():                               │
//             │ MAGIC u32 │ VERSION u32 │ SIZE u32 │ MASK u32 │ FLAGS u32 │    │
//             │ MAX_RECORD u32 (largest payload)                              │
//  ctl +   64 ├──────────────────────────────────────────────────────────────┤
//             │ line 1, what a reservation touches under the lock, and only  │
//             │ lock holders write (one line moves between producers):       │
//             │ LOCK u32 │ pad │ PRODUCER_POS u64 (the consumer reads it)    │
//             │ PENDING_POS u64 │ CONS_SEEN u64 │ LOSS_BASE u64              │
//             │ OVERWRITE_POS u64 │ OVERWRITTEN u64 │ MOVE_TOTAL u64           │
//  ctl +  128 ├── line 2: MOVE_TO u64 (overwrite mode, written per move) ──────┤
//  ctl +  192 ├── line 3: CONSUMER_POS u64 │ CONSUMER_DROPS u32 │ CONSUMER u32 ┤
//             │ CONSUMER_OVERWRITTEN │ CONSUMER_CARRY │ CONSUMER_LAST (f64s, the  │
//             │ consumer's own)                                               │
//  ctl +  256 ├── line 4: WAIT u32, the consumer's futex word ───────────────┤
//  ctl +  320 ├── line 5: ROOM_WAITERS u32 │ ROOM_SEQ u32 (producers' futex) ─┤
//  ctl +  384 ├── line 6: DROPPED u64 (refusals, counted outside the lock) ──┤
//  ctl +  448 ├── line 7: DISCARDED │ WAKEUPS │ LOCK_WAITS │ REAPED │ ROOM_WAITS (u64)
//  ctl +  512 ├── producer ids in use: a bitmap of 4096 bits (128 u32) ──────┤
//  ctl + 1024 ├── ROOM_BITS: producers waiting for room, a bit per id (128 u32)┤
//  ctl + 4096 ├── producer table: 4096 entries of 8 bytes, by producer id ────┤
//             │ [id] DROPPED u32 │ DISCARDED u32 (wrapping counters)          │
//  ctl+36864  ├── GENS: a u16 generation per producer id (reap() bumps it) ──┤
//  ctl+45056  ├──────────────────────────────────────────────────────────────┤
//             │ data area: SIZE bytes, SIZE a power of two; a record at       │
//             │ position pos starts at DATA + (pos & MASK)                    │
//             ├──────────────────────────────────────────────────────────────┤
//             │ overhang: roundup8(MAX_RECORD + 8) bytes. A record that starts │
//             │ near the end runs on into it, so every record is contiguous;  │
//             │ the bytes it shadows at the start of the data area stay       │
//             │ unused for that lap (positions are exactly the kernel's).     │
//             └──────────────────────────────────────────────────────────────┘
//
// A record: an 8-byte header, then the payload, the total rounded up to 8.
//
//   word 0:  ┌─BUSY─┬─DISCARD─┬──────────── len (30 bits) ─────────────┐
//            │  31  │   30    │ 29 ........................... 0        │
//   word 1:  ┌──── producer id (12 bits) ────┬── DROPPED snapshot (20) ┐
//            │ 31 ..................... 20   │ 19 .............. 0     │
//
// Word 1 holds the id of the producer that reserved the record and the low 20
// bits of DROPPED at that reservation: the consumer reports the difference
// between two consecutive records as the records refused between them. When
// more than DROPS_MASK refusals separate two reservations, the second is
// preceded by a loss record (DISCARD set, producer id LOSS_ID, an 8-byte
// payload holding the refusals the 20 bits cannot carry), so the count in the
// stream is exact at any rate.

export const MAGIC: u32 = 0x42505252; // "RRPB" little-endian: "BPRR"
export const VERSION: u32 = 5; // 5: staged payloads (src/reservation.ts), generations (OFF_GENS)

/** Address of the control block when the host does not choose one. */
export const RING_BASE: u32 = 65536;

// line 0
export const OFF_MAGIC: u32 = 0;
export const OFF_VERSION: u32 = 4;
export const OFF_SIZE: u32 = 8;
export const OFF_MASK: u32 = 12;
export const OFF_FLAGS: u32 = 16;
export const OFF_MAX_RECORD: u32 = 20;
// line 1: the lock and what its holder reads and writes (a cmpxchg on LOCK
// brings the whole reservation's state to the producer that takes it)
export const OFF_LOCK: u32 = 64;
export const OFF_PRODUCER_POS: u32 = 72;
/** The oldest position that may still be BUSY: walked forward lazily under the lock. */
export const OFF_PENDING_POS: u32 = 80;
/** CONSUMER_POS as the last producer under the lock read it: re-read only when space looks short. */
export const OFF_CONS_SEEN: u32 = 88;
/** DROPPED as accounted for by the last reservation's word 1 (and loss record). */
export const OFF_LOSS_BASE: u32 = 96;
export const OFF_OVERWRITE_POS: u32 = 104;
export const OFF_OVERWRITTEN: u32 = 112;
/**
 * Overwrite mode: what OVERWRITTEN becomes once the move in progress is done,
 * stored before the move's CONSUMER_POS compare-and-swap, so that reap() can
 * finish the move of a producer that died inside it.
 */
export const OFF_MOVE_TOTAL: u32 = 120;
// line 2
/** Overwrite mode: where the move in progress takes CONSUMER_POS (with MOVE_TOTAL, for reap()). */
export const OFF_MOVE_TO: u32 = 128;
// line 3
export const OFF_CONSUMER_POS: u32 = 192;
export const OFF_CONSUMER_DROPS: u32 = 200;
/** The consumer's token (0: no consumer): a ring has one consumer at a time. */
export const OFF_CONSUMER: u32 = 204;
/** Overwrite mode: OVERWRITTEN as the consumer has reported it (an f64 the consumer alone writes). */
export const OFF_CONSUMER_OVERWRITTEN: u32 = 208;
/**
 * Losses a consumer had counted but not yet reported when it gave the ring up
 * (an f64): the next consumer reports them with its first record.
 */
export const OFF_CONSUMER_CARRY: u32 = 216;
/**
 * Overwrite mode: the position the last consumer had read to when it gave the
 * ring up (an f64): the next one starts there, so that a move of CONSUMER_POS
 * past it, even one still in progress, is seen as a move.
 */
export const OFF_CONSUMER_LAST: u32 = 224;
// line 4
export const OFF_WAIT: u32 = 256;
// line 5
/** Producers asleep (or about to sleep) until the consumer frees room. */
export const OFF_ROOM_WAITERS: u32 = 320;
/** The futex word those producers wait on: the consumer bumps it when it frees room for them. */
export const OFF_ROOM_SEQ: u32 = 324;
// line 6
export const OFF_DROPPED: u32 = 384;
// line 7
export const OFF_DISCARDED: u32 = 448;
export const OFF_WAKEUPS: u32 = 456;
export const OFF_LOCK_WAITS: u32 = 464;
export const OFF_REAPED: u32 = 472;
export const OFF_ROOM_WAITS: u32 = 480;
// producer ids in use
export const OFF_IDS: u32 = 512;
export const ID_WORDS: u32 = 128;
/** A bit per producer id that waits for room, so that reap() can take back its ROOM_WAITERS announcement. */
export const OFF_ROOM_BITS: u32 = 1024;
// producer table
export const OFF_PRODUCERS: u32 = 4096;
export const PRODUCER_ENTRY: u32 = 8;
export const ENTRY_DROPPED: u32 = 0;
export const ENTRY_DISCARDED: u32 = 4;
/**
 * A u16 generation per producer id, which reap() bumps under the lock. A
 * producer passes the generation it attached with (`who`: id | gen << 16) to
 * every reserve and commit, and one that was reaped (a worker that went on
 * running after its exit, as Deno's can) finds it changed and writes nothing.
 */
export const OFF_GENS: u32 = 36864;

/** Bytes from `ctl` to the data area. */
export const DATA_OFFSET: u32 = 45056;

// header
export const HDR_SIZE: u32 = 8;
export const BUSY_BIT: u32 = 0x80000000; // 1 << 31
export const DISCARD_BIT: u32 = 0x40000000; // 1 << 30
export const LEN_MASK: u32 = 0x3fffffff; // 30 bits of length
export const ID_SHIFT: u32 = 20;
export const DROPS_MASK: u32 = 0x000fffff; // 20 bits of DROPPED
/** Largest producer id handed out; 0 is anonymous (every id in use). */
export const MAX_PRODUCER_ID: u32 = 0xffe;
/** The producer id of a loss record (see the header above). */
export const LOSS_ID: u32 = 0xfff;
/** Payload bytes of a loss record: the refusals as a u64. */
export const LOSS_LEN: u32 = 8;

// LOCK word: 0 when free, else LOCK_HELD | owner id, plus LOCK_CONTENDED when
// a producer may be asleep on it.
export const LOCK_HELD: u32 = 0x00001000; // 1 << 12
export const LOCK_CONTENDED: u32 = 0x80000000; // 1 << 31

// WAIT word: what a commit may wake.
/** The consumer is running: no commit wakes it. */
export const WAIT_AWAKE: u32 = 0;
/** The consumer sleeps until a record it should be woken for (the kernel's rules). */
export const WAIT_ARMED: u32 = 1;
/** The consumer naps for its latency budget and drains then: only BPF_RB_FORCE_WAKEUP ends the nap early. */
export const WAIT_NAPPING: u32 = 2;

// FLAGS word
// (0x1 was the lock-free claim, which the model keeps as an alternative: docs/model.md)
/** A full ring drops its oldest committed records instead of refusing new ones (BPF_F_RB_OVERWRITE). */
export const FLAG_OVERWRITE: u32 = 0x2;
/** One producer only (a per-producer buffer): reserve() takes no lock. */
export const FLAG_SINGLE: u32 = 0x4;

/** Commit flag: do not wake the consumer for this record (kernel `BPF_RB_NO_WAKEUP`). */
export const BPF_RB_NO_WAKEUP: u32 = 1;
/** Commit flag: wake the consumer whatever its position, even from a nap (kernel `BPF_RB_FORCE_WAKEUP`). */
export const BPF_RB_FORCE_WAKEUP: u32 = 2;

/** Query key: bytes not yet consumed, `producer_pos - consumer_pos` (kernel `BPF_RB_AVAIL_DATA`). */
export const BPF_RB_AVAIL_DATA: u32 = 0;
/** Query key: size of the data area in bytes (kernel `BPF_RB_RING_SIZE`). */
export const BPF_RB_RING_SIZE: u32 = 1;
/** Query key: the consumer position, a byte counter that only grows (kernel `BPF_RB_CONS_POS`). */
export const BPF_RB_CONS_POS: u32 = 2;
/** Query key: the producer position, a byte counter that only grows (kernel `BPF_RB_PROD_POS`). */
export const BPF_RB_PROD_POS: u32 = 3;
/**
 * Query key: in overwrite mode, the position before which records were
 * overwritten (kernel `BPF_RB_OVERWRITE_POS`, from its `BPF_F_RB_OVERWRITE` maps).
 */
export const BPF_RB_OVERWRITE_POS: u32 = 4;

/** reserve()'s `opts`: this thread may sleep on a held lock (not a browser page's main thread). */
export const RESERVE_CAN_BLOCK: u32 = 1;
/** reserve()'s `opts`: a refusal is not counted (the caller waits for room and tries again). */
export const RESERVE_QUIET: u32 = 2;

/** Records the lazy PENDING_POS walk takes at a time, once half a ring behind (reserveLocked() in ring.ts). */
export const WALK_STRETCH: u32 = 32;

/** Spins on a held lock before a producer sleeps on it. */
export const LOCK_SPINS: i32 = 4096;

/** reserve()'s result, and a bit of commit()'s, when the producer was reaped: nothing was written. */
export const REVOKED: u32 = 1;
/** commit()'s result bit for REVOKED (bit 0 says whether it sent a wakeup). */
export const COMMIT_REVOKED: u32 = 2;

/** Set in reap()'s result when the reaped producer held the lock. */
export const REAP_LOCK_RECOVERED: u32 = 0x80000000;
