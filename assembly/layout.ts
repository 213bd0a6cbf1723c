// The memory map of one ring. One source of truth: src/layout.ts mirrors these
// numbers and test/unit/layout.test.ts checks that the two agree.
//
// A ring lives in one shared WebAssembly.Memory. The host picks the address of
// its control block (`ctl`, RING_BASE by default, far above __heap_base: this
// module has no static data and no heap) and passes it to every call.
//
//  ctl +    0 ┌──────────────────────────────────────────────────────────────┐
//             │ line 0, written once by init():                               │
//             │ MAGIC u32 │ VERSION u32 │ SIZE u32 │ MASK u32 │ FLAGS u32 │    │
//             │ MAX_RECORD u32 (largest payload) │ NEXT_PRODUCER u32          │
//  ctl +   64 ├──────────────────────────────────────────────────────────────┤
//             │ line 1, producer side, written under the lock:               │
//             │ LOCK u32 │ pad │ PENDING_POS u64 │ DROPPED u64 │ OVERWRITE_POS u64 │
//             │ OVERWRITTEN u64                                               │
//  ctl +  128 ├── line 2: PRODUCER_POS u64 (producers write, consumer reads) ─┤
//  ctl +  192 ├── line 3: CONSUMER_POS u64 │ CONSUMER_DROPS u32 (consumer)   ─┤
//  ctl +  256 ├── line 4: WAIT u32, the consumer's futex word (1 = sleeping) ─┤
//  ctl +  320 ├── line 5: DISCARDED u64 │ WAKEUPS u64 │ LOCK_WAITS u64 │ REAPED u64
//  ctl + 4096 ├── producer table: 4096 entries of 8 bytes, by producer id ────┤
//             │ [id] DROPPED u32 │ DISCARDED u32 (wrapping counters)          │
//  ctl+36864  ├──────────────────────────────────────────────────────────────┤
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
// bits of DROPPED + OVERWRITTEN at that reservation: the consumer reports the
// difference between two consecutive records as the records lost (refused,
// or overwritten unread) between them.

export const MAGIC: u32 = 0x42505252; // "RRPB" little-endian: "BPRR"
export const VERSION: u32 = 1;

/** Address of the control block when the host does not choose one. */
export const RING_BASE: u32 = 65536;

// line 0
export const OFF_MAGIC: u32 = 0;
export const OFF_VERSION: u32 = 4;
export const OFF_SIZE: u32 = 8;
export const OFF_MASK: u32 = 12;
export const OFF_FLAGS: u32 = 16;
export const OFF_MAX_RECORD: u32 = 20;
export const OFF_NEXT_PRODUCER: u32 = 24;
// line 1
export const OFF_LOCK: u32 = 64;
export const OFF_PENDING_POS: u32 = 72;
export const OFF_DROPPED: u32 = 80;
export const OFF_OVERWRITE_POS: u32 = 88;
export const OFF_OVERWRITTEN: u32 = 96;
// line 2
export const OFF_PRODUCER_POS: u32 = 128;
// line 3
export const OFF_CONSUMER_POS: u32 = 192;
export const OFF_CONSUMER_DROPS: u32 = 200;
// line 4
export const OFF_WAIT: u32 = 256;
// line 5
export const OFF_DISCARDED: u32 = 320;
export const OFF_WAKEUPS: u32 = 328;
export const OFF_LOCK_WAITS: u32 = 336;
export const OFF_REAPED: u32 = 344;
// producer table
export const OFF_PRODUCERS: u32 = 4096;
export const PRODUCER_ENTRY: u32 = 8;
export const ENTRY_DROPPED: u32 = 0;
export const ENTRY_DISCARDED: u32 = 4;

/** Bytes from `ctl` to the data area. */
export const DATA_OFFSET: u32 = 36864;

// header
export const HDR_SIZE: u32 = 8;
export const BUSY_BIT: u32 = 0x80000000; // 1 << 31
export const DISCARD_BIT: u32 = 0x40000000; // 1 << 30
export const LEN_MASK: u32 = 0x3fffffff; // 30 bits of length
export const ID_SHIFT: u32 = 20;
export const DROPS_MASK: u32 = 0x000fffff; // 20 bits of DROPPED
export const MAX_PRODUCER_ID: u32 = 0xfff; // 12 bits; 0 = anonymous

// LOCK word: 0 when free, else LOCK_HELD | owner id, plus LOCK_CONTENDED when
// a producer may be asleep on it.
export const LOCK_HELD: u32 = 0x00001000; // 1 << 12
export const LOCK_CONTENDED: u32 = 0x80000000; // 1 << 31

// FLAGS word
/** Producers claim space with a compare-and-swap on PRODUCER_POS, no lock. */
export const FLAG_CLAIM: u32 = 0x1;
/** A full ring drops its oldest committed records instead of refusing new ones (BPF_F_RB_OVERWRITE). */
export const FLAG_OVERWRITE: u32 = 0x2;
/** One producer only (a per-producer buffer): reserve() takes no lock. */
export const FLAG_SINGLE: u32 = 0x4;

// commit flags, the kernel's values
export const BPF_RB_NO_WAKEUP: u32 = 1;
export const BPF_RB_FORCE_WAKEUP: u32 = 2;

// query keys, the kernel's values
export const BPF_RB_AVAIL_DATA: u32 = 0;
export const BPF_RB_RING_SIZE: u32 = 1;
export const BPF_RB_CONS_POS: u32 = 2;
export const BPF_RB_PROD_POS: u32 = 3;
export const BPF_RB_OVERWRITE_POS: u32 = 4;

/** Spins on a held lock before a producer sleeps on it. */
export const LOCK_SPINS: i32 = 4096;

/** Set in reap()'s result when the reaped producer held the lock. */
export const REAP_LOCK_RECOVERED: u32 = 0x80000000;
