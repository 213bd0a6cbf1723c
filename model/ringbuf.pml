/*
 * A SPIN model of the wasm-ringbuf protocol: the BPF ring buffer over one
 * shared memory, many producers, one consumer. docs/protocol.md maps every
 * step (the [tags] below) to the code it stands for; docs/model.md says what
 * is and is not proved. model/check.sh runs the configurations and the
 * mutations.
 *
 * Semantics. Wasm atomics are sequentially consistent, so a run is an
 * interleaving of whole atomic steps: each d_step below is one load, store,
 * exchange or compare-and-swap on a shared word, with the local computation
 * around it. Where a d_step holds more than one shared access, the others are
 * movers (Lipton's reduction): taking the lock is a right mover, releasing it
 * a left mover, and an access to a word only lock holders write, made by a
 * lock holder, commutes with every other step. docs/model.md lists each merge.
 *
 * Plain stores (payload, header word 1, the header store in reserve(), the
 * consumer's 0xff fill) sit at their place in program order. Each is
 * published by a later atomic (commit's exchange, the PRODUCER_POS store, the
 * CONSUMER_POS compare-and-swap), so in a data-race-free run they behave as in
 * an interleaving; the ghost state (rs, own, hpos, pay) checks that no run
 * races on them where it must not: no reservation covers an unreleased
 * record, and a delivered payload is the one its producer wrote.
 *
 * Units: one unit is 8 bytes (a header, or 8 payload bytes); a record of L
 * units is its header and L-1 units of payload. Positions are unit counters
 * that only grow (they stay below MAXPOS); a record's offset is pos & MASK.
 *
 * Configuration (cpp -D):
 *   NPROD 1..3  producers            SIZE 4 or 8  the ring, in units
 *   NREC, NREC1..NREC3  reservations per producer (default 1)
 *   LEN1..LEN3  record lengths: 0 choose 1 or 2 units; 1..9 all records;
 *               10..99 the first record, then the others (21: 2, then 1s)
 *   CAS         the lock-free claim mode ('cas') instead of the lock
 *   OVERWRITE   overwrite mode
 *   BUDGET      wakeup moderation: the consumer naps after a pass that delivered
 *   FLAGS       each commit chooses default, NO_WAKEUP or FORCE
 *   DISCARDS    each commit chooses submit or discard
 *   ROOMWAIT    producers reserve with reserveWait (they wait for room)
 *   REAP        producer KILLABLE (default 1) may die at any step; a reaper reaps it
 *   KILL_IN_MOVE (with REAP) it may die only inside a move of overwriteOldest
 *   HOSTILE     no consumer: other code moves CONSUMER_POS forward at will
 *   HALFWAKE    overwrite mode's extra adaptive wakeup when a record crosses the half or the end
 *   SINGLE      one producer (NPROD 1) on a single-producer ring: each record is written by
 *               output()'s one call (payload first, the record born committed) when the
 *               producer's view of the consumer shows room, else by reserve and commit
 *   CLOSE       the consumer's callback may close it at any record it delivers; a
 *               second consumer takes the ring once its token is free
 *   START       the initial position (default 0)
 *   PERFBUF     instead of all the above: an ordered per-producer buffer (the end of
 *               this file), PB_N 2 producers, PB_CAP records per ring, PB_NREC reservations each
 * Mutations, each of which must produce a counterexample:
 *   M_NO_SECOND_LOOK    the consumer arms and sleeps without looking again
 *   M_NO_PENDING_WALK   reserve checks only CONSUMER_POS (before the kernel's 2024 fix)
 *   M_NO_OVERWRITE_WAKE overwriteOldest moves CONSUMER_POS without wake()
 *   M_COMMIT_LOAD_FIRST commit reads CONSUMER_POS before its header exchange
 *   M_COMMIT_WAIT_FIRST commit reads WAIT before its header exchange
 *   M_OUTPUT_WAIT_FIRST output()'s one call reads WAIT before its PRODUCER_POS store
 *   M_OUTPUT_NO_ROOM    output() writes the payload without looking at CONS_SEEN
 *   M_ROOM_NOT_OWED     a pass that published without looking for room waiters ends without that look
 *   M_ROOM_NO_RECHECK   reserveWait sleeps without reserving again after it announced
 *   M_REAP_KEEPS_WAITER reap leaves ROOM_BITS and ROOM_WAITERS as they are
 *   M_RELEASE_BEFORE_PUBLISH a consumer closed in its callback frees its token before its publish
 *   M_PB_REFUSE_NO_WAKE (PERFBUF) a refused reservation stores LOW = IDLE and never wakes
 *   M_PB_NOWAKE_IGNORES_HELD (PERFBUF) a NO_WAKEUP commit never wakes, records held back or not
 *   M_ROOM_LEAVE_SPLIT  reserveWait's way out (clear its bit, then ROOM_WAITERS -= 1) in two steps
 *   M_DROPPED_PLAIN     the refusal under the lock counts by a plain load and store
 *   M_CAS_NO_FILL       claim mode: consumed space is not refilled with 0xff
 *   M_LOCK_NO_CONTENDED lockSlow sleeps without marking the lock contended
 *   M_CONSUMER_STORE    overwrite mode: the consumer stores CONSUMER_POS, no CAS
 *   M_MOVE_GIVE_UP      overwrite mode: the consumer takes a gap whose move is under way
 *   M_REAP_NO_MOVE      overwrite mode: reap leaves a dead producer's move unfinished
 *   SPEC_REAP_WAKE      reap wakes by wake() only, as first specified
 *   SPEC_REAP_LOCK      reap notifies LOCK only when it recovered it, as first specified
 *   SPEC_PRECHECK_ORDER reserve's pre-check reads PRODUCER_POS, then CONSUMER_POS, as first specified
 *   SPEC_MOVE_TOTAL     a failed move leaves MOVE_TOTAL as it stored it, as first specified
 *   SPEC_MOVE_TOTAL_STEP MOVE_TOTAL's store a step of its own: a producer may die between it and the cmpxchg
 */

#ifndef NPROD
#define NPROD 2
#endif
/* records the lazy pending walk takes at a time (WALK_STRETCH in assembly/layout.ts): 1 here, so that a walk of a stretch and a walk before a refusal both happen */
#ifndef STRETCH
#ifdef SINGLE
#define STRETCH 255
#else
#define STRETCH 1
#endif
#endif
/* the lag at which the walk starts: half a ring, or at once on a single-producer ring */
#ifdef SINGLE
#define LAZY_FROM 0
#else
#define LAZY_FROM (MASK >> 1)
#endif
#ifndef SIZE
#define SIZE 4
#endif
#define MASK (SIZE - 1)
#ifndef NREC
#define NREC 1
#endif
#ifndef NREC1
#define NREC1 NREC
#endif
#ifndef NREC2
#define NREC2 NREC
#endif
#ifndef NREC3
#define NREC3 NREC
#endif
#ifndef LEN1
#define LEN1 0
#endif
#ifndef LEN2
#define LEN2 0
#endif
#ifndef LEN3
#define LEN3 0
#endif
#ifndef START
#define START 0             /* where every position starts */
#endif
#ifndef KILLABLE
#define KILLABLE 1
#endif
#ifdef BUDGET
#define NAPS 1
#else
#define NAPS 0
#endif
#ifdef M_LOCK_NO_CONTENDED
#define MARK_CONTENDED 0
#else
#define MARK_CONTENDED 1
#endif

#define MAXPOS 32            /* positions 0..MAXPOS-1; an index past it is a pan error */
#define NONE 255

/* header word 0: BUSY | DISCARD | length in units */
#define BUSY 128
#define DISCARD 64
#define LENMASK 63
#define FREE 255             /* claim mode: free space, all ones (reads BUSY) */
#define GARBAGE 1            /* payload bytes read as a header: a committed one-unit record */

/* LOCK: 0 free, else owner id | CONTENDED */
#define CONTENDED 8
#define REAPER (NPROD + 1)

/* WAIT */
#define AWAKE 0
#define ARMED 1
#define NAPPING 2

/* commit flags */
#define F_DEFAULT 0
#define F_NOWAKE 1
#define F_FORCE 2

/* ghost record states, by position */
#define RS_NONE 0
#define RS_BUSY 1
#define RS_COMMITTED 2
#define RS_DISCARDED 3
#define RS_DELIVERED 4
#define RS_SKIPPED 5         /* discarded, passed by the consumer */
#define RS_OVERWRITTEN 6     /* committed, passed by overwriteOldest */
#define RS_PASSED 7          /* discarded, passed by overwriteOldest */

#define BIT(i) (1 << (i))

/* ---- shared memory: the control block ---- */
byte LOCK;
byte PENDING_POS;
byte CONS_SEEN;
byte PRODUCER_POS;
byte CONSUMER_POS;
byte WAIT;
byte ROOM_WAITERS;
byte ROOM_BITS;              /* a bit per producer announced as waiting for room */
byte ROOM_SEQ;
byte DROPPED;
byte OVERWRITTEN;
byte OVERWRITE_POS;
byte MOVE_TOTAL;             /* OVERWRITTEN as the move under way will leave it (lock holders only) */
#ifdef CLOSE
byte TOKEN;                  /* the CONSUMER word: the token of the ring's one consumer, 0 when free */
#endif

/* ---- shared memory: the data area, per unit ---- */
byte hdr[SIZE];              /* header word 0, or whatever bytes are there */
byte hown[SIZE];             /* header word 1: the producer id */

/* ---- futex wait lists: who is blocked in memory.atomic.wait32 on the word ---- */
bit  fw_wait;                /* the consumer, on WAIT */
byte fw_lock;                /* a bit per process id, on LOCK */
byte fw_room;                /* a bit per producer, on ROOM_SEQ */

/* ---- ghost state ---- */
byte hpos[SIZE];             /* the position of the record whose header this is (NONE: other bytes) */
byte pay[SIZE];              /* the position of the record whose payload is in this unit */
byte own[SIZE];              /* the position of the unreleased record covering this unit, or NONE */
byte rs[MAXPOS];             /* record state, by position */
bit  nowake[MAXPOS];         /* committed with BPF_RB_NO_WAKEUP */
byte refusals;               /* reserve() calls that returned null */
bit  csleep;                 /* the consumer is blocked in its sleep (poll(-1)) */
bit  done[NPROD + 1];
bit  dead[NPROD + 1];
bit  doomed[NPROD + 1];
bit  reaped[NPROD + 1];
byte csleepat;               /* overwrite mode: the consumer's position while it sleeps */
bit  inmove;                 /* KILL_IN_MOVE: producer KILLABLE is inside a move */
#ifdef CLOSE
byte lastdel = START;        /* the end of the last record delivered, by either consumer */
#endif

/* ================================================================== */
/* futex notify                                                        */

inline notify_wait() {
  d_step { fw_wait = 0 }
}

inline notify_lock_one() {
  /* wakes one sleeper, any one */
  atomic {
    if
    :: fw_lock & BIT(1) -> fw_lock = fw_lock & ~BIT(1)
    :: fw_lock & BIT(2) -> fw_lock = fw_lock & ~BIT(2)
    :: fw_lock & BIT(3) -> fw_lock = fw_lock & ~BIT(3)
    :: fw_lock & BIT(4) -> fw_lock = fw_lock & ~BIT(4)
    :: fw_lock == 0 -> skip
    fi
  }
}

inline notify_lock_all() {
  d_step { fw_lock = 0 }
}

/* ================================================================== */
/* lock.ts: lockAcquire, lockSlow, lockRelease                         */

/*
 * LOCK_ACQUIRE(id, ENTRY): takes the lock for id, then runs ENTRY (an inline
 * call) in the same step: taking the lock is a right mover. [L1] is
 * lockAcquire's cmpxchg(LOCK, 0, id). lockSlow's spin retries it: a failed try
 * changes nothing, so a spin that succeeds is a fast path taken later, which
 * the interleavings already hold. [L2] is lockSlow's loop: load LOCK; take it
 * as contended, or mark it contended; [L3] wait32(LOCK, v, -1), which returns
 * at once if LOCK is no longer v, else sleeps until a notify.
 */
#define LOCK_ACQUIRE(id, ENTRY) \
  d_step { if :: LOCK == 0 -> LOCK = id; lk = 1; ENTRY :: else -> lk = 0 fi }   /* [L1] */ \
  do \
  :: lk == 1 -> break \
  :: else -> \
     d_step {                                                                  /* [L2] */ \
       t_v = LOCK; \
       if \
       :: t_v == 0 -> LOCK = id | CONTENDED; lk = 1; ENTRY \
       :: MARK_CONTENDED && t_v != 0 && (t_v & CONTENDED) == 0 -> LOCK = t_v | CONTENDED; t_v = t_v | CONTENDED \
       :: else -> skip \
       fi \
     } \
     if \
     :: lk == 0 -> \
        d_step { if :: LOCK == t_v -> fw_lock = fw_lock | BIT(id) :: else -> skip fi }   /* [L3] */ \
        (fw_lock & BIT(id)) == 0 \
     :: else -> skip \
     fi \
  od; \
  lk = 0; t_v = 0

/* lockRelease after its xchg [L4] (t_v holds what the xchg returned): notify one if contended [L5] */
inline release_notify() {
  if
  :: t_v & CONTENDED -> notify_lock_one()
  :: else -> skip
  fi;
  t_v = 0
}

inline lock_release() {
  d_step { t_v = LOCK; LOCK = 0 }                                              /* [L4] */
  release_notify()
}

/* ================================================================== */
/* ring.ts: wake                                                       */

inline wake(force) {
  d_step { t_w = WAIT }                                                        /* [W1] */
  if
  :: t_w == AWAKE || (t_w == NAPPING && !force) -> skip
  :: else ->
     d_step { if :: WAIT == t_w -> WAIT = AWAKE; t_w = 3 :: else -> t_w = 0 fi }   /* [W2] cmpxchg */
     if
     :: t_w == 3 -> notify_wait()                                              /* [W3] */
     :: else -> skip
     fi
  fi;
  t_w = 0
}

/* ================================================================== */
/* ghost bookkeeping                                                   */

/* a record becomes public (PRODUCER_POS moves past it) */
inline publish_ghost(p0, p1) {
  rs[p0] = RS_BUSY;
  u = p0;
  do
  :: u < p1 ->
#ifdef HOSTILE
     /* a hostile CONSUMER_POS may free unread records, never a BUSY one */
     assert(own[u & MASK] == NONE || rs[own[u & MASK]] != RS_BUSY);
#else
     assert(own[u & MASK] == NONE);   /* never over an unreleased record */
#endif
     own[u & MASK] = p0;
     u++
  :: else -> break
  od;
  u = 0
}

/* the records in [p0, p1) are released (consumed, or passed by an overwrite) */
inline release_ghost(p0, p1) {
  u = 0;
  do
  :: u < SIZE ->
     if
     :: own[u] != NONE && own[u] >= p0 && own[u] < p1 -> own[u] = NONE
     :: else -> skip
     fi;
     u++
  :: else -> break
  od;
  u = 0
}

/* ================================================================== */
/* ring.ts: overwriteOldest (under the lock)                           */

inline overwrite_oldest() {
  do
  :: d_step {                                                                  /* [O1] */
       t_c = CONSUMER_POS;
       if
       :: t_next - t_c <= SIZE - 1 -> ow = 1
       :: else ->
          ow = 0; t_over = t_c; t_n = 0;
#ifdef KILL_IN_MOVE
          if :: me == KILLABLE -> inmove = 1 :: else -> skip fi;
#endif
          /* the headers in [CONSUMER_POS, pend) are committed, and stay so under the lock */
          do
          :: t_next - t_over > SIZE - 1 && t_over < t_pend ->
             h = hdr[t_over & MASK];
             t_over = t_over + (h & LENMASK);
             if :: (h & DISCARD) == 0 -> t_n++ :: else -> skip fi
          :: else -> break
          od;
          h = 0
#ifdef SPEC_MOVE_TOTAL_STEP
          ; MOVE_TOTAL = OVERWRITTEN + t_n   /* [O4] a step before the cmpxchg's */
#endif
       fi
     }
     if :: ow == 1 -> break :: else -> skip fi;
     d_step {                                                                  /* [O2] cmpxchg */
       /* [O4] MOVE_TOTAL = OVERWRITTEN + n, just before the cmpxchg, and [O7]
          MOVE_TOTAL = OVERWRITTEN again just after a failed one: words only
          lock holders read or write (movers), with no call or loop back edge
          between them and the cmpxchg, where a worker could be terminated */
#ifndef SPEC_MOVE_TOTAL_STEP
       MOVE_TOTAL = OVERWRITTEN + t_n;
#endif
       if
       :: CONSUMER_POS == t_c ->
          CONSUMER_POS = t_over; ow = 1;
          /* ghost: every record passed is counted overwritten, never delivered */
          u = t_c;
          do
          :: u < t_over ->
             if
             :: rs[u] == RS_NONE -> skip
             :: rs[u] == RS_COMMITTED -> rs[u] = RS_OVERWRITTEN
             :: rs[u] == RS_DISCARDED -> rs[u] = RS_PASSED
             :: else -> assert(rs[u] == RS_COMMITTED || rs[u] == RS_DISCARDED)   /* never a BUSY record, nor one delivered */
             fi;
             u++
          :: else -> break
          od;
          release_ghost(t_c, t_over)
#ifndef M_MOVE_GIVE_UP
          /* [O5] OVERWRITTEN = MOVE_TOTAL: a right mover up to [O6]. Until
             OVERWRITE_POS reaches the new CONSUMER_POS no consumer takes
             this gap, and one that read OVERWRITTEN for an older gap finds
             CONSUMER_POS changed and reads again; a reap after a death
             before [O6] stores the same value */
          ; OVERWRITTEN = MOVE_TOTAL
#endif
       :: else ->
          ow = 0;
#ifndef SPEC_MOVE_TOTAL
          MOVE_TOTAL = OVERWRITTEN                                             /* [O7] */
#endif
       fi
     }
     if
     :: ow == 1 ->
#ifdef M_MOVE_GIVE_UP
        d_step { OVERWRITTEN = MOVE_TOTAL }                                    /* [O5] */
#endif
        d_step { OVERWRITE_POS = t_over }                                      /* [O6] */
#ifndef M_NO_OVERWRITE_WAKE
        wake(0);                                                               /* [O3] */
#endif
        break
     :: else -> skip
     fi
  od;
  ow = 0; t_over = 0; t_n = 0
#ifdef KILL_IN_MOVE
  ; inmove = 0
#endif
}

/* ================================================================== */
/* ring.ts: reserve (lock mode)                                        */

/* refuse when the record would reach the oldest BUSY one, or (not overwriting) the consumer */
#ifdef OVERWRITE
#define REFUSE_TEST t = (t_pend != NONE && t_next - t_pend > SIZE - 1)
#else
#define REFUSE_TEST t = ((t_pend != NONE && t_next - t_pend > SIZE - 1) || t_next - t_c > SIZE - 1)
#endif

/* [R3] what reserve() does in the step that takes the lock: the positions, the
   pending walk, the cached consumer position */
inline reserve_entry() {
  t_prod = PRODUCER_POS; t_next = t_prod + L;
#ifndef M_NO_PENDING_WALK
  /* lazy: once PENDING_POS is half a ring behind, STRETCH records at a time,
     and as far as it goes before a refusal; eager on a single-producer ring,
     whose output() writes the payload past PRODUCER_POS before this step */
  t_pend = PENDING_POS;
  if
  :: t_next - t_pend > LAZY_FROM ->
     t_n = 0;
     do
     :: t_pend < t_prod && (hdr[t_pend & MASK] & BUSY) == 0 && (t_n < STRETCH || t_next - t_pend > SIZE - 1) ->
        assert(hpos[t_pend & MASK] == t_pend);   /* a header, the record's at this position */
        t_pend = t_pend + (hdr[t_pend & MASK] & LENMASK); t_n++
     :: else -> break
     od;
     t_n = 0;
     PENDING_POS = t_pend
  :: else -> skip
  fi;
#else
  t_pend = NONE;
#endif
  t_c = CONS_SEEN;
  rl = (t_next - t_c > SIZE - 1);
  if :: rl == 0 -> REFUSE_TEST :: else -> skip fi
}

inline reserve_lock() {
  ok = 0; t = 0;
#ifndef OVERWRITE
  /* the pre-check, without the lock, in u64 arithmetic (a difference below zero
     is huge). CONSUMER_POS first [R1], then PRODUCER_POS [R2], as the kernel
     reads them: the other order lets CONSUMER_POS pass the PRODUCER_POS read
     before it, and the wrapped difference refuses with an empty ring. */
#ifdef SPEC_PRECHECK_ORDER
  d_step { t_prod = PRODUCER_POS }                                             /* [R2] */
  d_step { t_c = CONSUMER_POS;                                                 /* [R1] */
#else
  d_step { t_c = CONSUMER_POS }                                                /* [R1] */
  d_step { t_prod = PRODUCER_POS;                                              /* [R2] */
#endif
    if
    :: t_c > t_prod + L || t_prod + L - t_c > SIZE - 1 ->
       assert(t_c <= t_prod + L);   /* never a refusal from a wrapped difference */
       DROPPED++; refusals++; t = 1
    :: else -> skip
    fi;
    t_prod = 0; t_c = 0
  }
#endif
  if
  :: t == 1 -> t = 0
  :: else ->
     LOCK_ACQUIRE(me, reserve_entry());
     if
     :: rl == 1 -> d_step { t_c = CONSUMER_POS; CONS_SEEN = t_c; rl = 0; REFUSE_TEST }   /* [R4] */
     :: else -> skip
     fi;
     if
     :: t == 1 ->
        /* [R5] refuse: count it, release the lock */
#if defined(M_DROPPED_PLAIN)
        d_step { t = DROPPED }
        d_step { DROPPED = t + 1; refusals++; t = 0 }
        lock_release()
#elif defined(REAP)
        d_step { DROPPED++; refusals++; t = 0 }
        lock_release()
#else
        /* the count is an atomic add, which commutes with every other step */
        d_step { DROPPED++; refusals++; t = 0; t_v = LOCK; LOCK = 0 }
        release_notify()
#endif
     :: else ->
#ifdef OVERWRITE
        if
        :: t_next - t_c > SIZE - 1 -> overwrite_oldest()                         /* [R6] */
        :: else -> skip
        fi;
        /* [R7] header word 1, then word 0 = L | BUSY (plain stores): a consumer
           with a stale position may read it in this mode, so it is a step */
        d_step { hdr[t_prod & MASK] = L | BUSY; hown[t_prod & MASK] = me; hpos[t_prod & MASK] = t_prod }
#endif
        d_step {                                                               /* [R8] */
#ifndef OVERWRITE
          /* [R7] the header (plain stores): nobody reads this header before
             PRODUCER_POS passes it outside overwrite mode, so it moves to here */
          hdr[t_prod & MASK] = L | BUSY; hown[t_prod & MASK] = me; hpos[t_prod & MASK] = t_prod;
#endif
          /* release: PRODUCER_POS */
          PRODUCER_POS = t_next; publish_ghost(t_prod, t_next)
#ifndef REAP
          /* lockRelease's xchg [L4], a left mover */
          ; t_v = LOCK; LOCK = 0
#endif
        }
#ifdef REAP
        /* a producer may die holding the lock after publishing: [L4] is a step */
        d_step { t_v = LOCK; LOCK = 0 }
#endif
        release_notify();
        pos = t_prod; ok = 1
     fi
  fi;
  t_prod = 0; t_next = 0; t_pend = 0; t_c = 0
}

/* ================================================================== */
/* ring.ts: reserveClaim (the lock-free claim mode)                    */

inline reserve_claim() {
  ok = 0;
  do
  :: d_step { t_c = CONSUMER_POS }                                             /* [C1] */
     d_step { t_prod = PRODUCER_POS }                                          /* [C2] */
     if
     :: t_prod + L - t_c > SIZE - 1 -> d_step { DROPPED++; refusals++ }; break  /* [C3] */
     :: else ->
        d_step {                                                               /* [C4] cmpxchg */
          if
          :: PRODUCER_POS == t_prod ->
             PRODUCER_POS = t_prod + L; publish_ghost(t_prod, t_prod + L); ok = 1
          :: else -> skip
          fi
        }
        if :: ok -> break :: else -> skip fi
     fi
  od;
  if
  :: ok ->
     /* word 1 (plain), then word 0 = L | BUSY (atomic store) [C5] */
     d_step { hdr[t_prod & MASK] = L | BUSY; hown[t_prod & MASK] = me; hpos[t_prod & MASK] = t_prod };
     pos = t_prod
  :: else -> skip
  fi;
  t_prod = 0; t_c = 0
}

inline reserve() {
#ifdef CAS
  reserve_claim()
#else
  reserve_lock()
#endif
}

/* ================================================================== */
/* ring-buffer.ts: reserveWait, a producer that waits for room         */

/* [Q5] [Q6] the way out: clear this producer's ROOM_BITS bit (an atomic and
   that returns the old value), and only if it was set, ROOM_WAITERS -= 1. One
   loop-free wasm call, as the announcement: a worker is terminated only at a
   function entry or a loop back edge, so the two are one step (with
   M_ROOM_LEAVE_SPLIT, two steps a death can come between) */
inline room_leave() {
#ifdef M_ROOM_LEAVE_SPLIT
  d_step { t = ROOM_BITS & BIT(me); ROOM_BITS = ROOM_BITS & ~BIT(me); t_seq = 0 }   /* [Q5] */
  if :: t -> d_step { ROOM_WAITERS--; t = 0 } :: else -> skip fi                   /* [Q6] */
#else
  d_step {                                                                     /* [Q5] [Q6] */
    if :: ROOM_BITS & BIT(me) -> ROOM_WAITERS-- :: else -> skip fi;
    ROOM_BITS = ROOM_BITS & ~BIT(me); t_seq = 0
  }
#endif
}

inline reserve_wait() {
  reserve();
  do
  :: ok -> break
  :: else ->
     /* [Q1] announce: ROOM_WAITERS += 1, then this producer's ROOM_BITS bit,
        in one loop-free wasm call (see room_leave) */
     d_step { ROOM_WAITERS++; ROOM_BITS = ROOM_BITS | BIT(me) }
     d_step { t_seq = ROOM_SEQ }                                               /* [Q2] */
#ifndef M_ROOM_NO_RECHECK
     reserve();                                                                /* [Q3] look again */
     if
     :: ok -> room_leave()
     :: else ->
#endif
        /* [Q4] wait32(ROOM_SEQ, seq, -1): returns at once if ROOM_SEQ moved */
        d_step { if :: ROOM_SEQ == t_seq -> fw_room = fw_room | BIT(me) :: else -> skip fi }
        (fw_room & BIT(me)) == 0;
        room_leave()
#ifndef M_ROOM_NO_RECHECK
     fi
#else
        ;
        reserve()    /* retry after the wait only */
#endif
  od
}

/* ================================================================== */
/* ring.ts: commit (submit or discard) and its wakeup rule             */

/* the payload stores: the record's units, and garbage where a later header may be read */
#define PAYLOAD \
  u = pos; \
  do \
  :: u < pos + L -> \
     pay[u & MASK] = pos; \
     if :: u != pos -> hdr[u & MASK] = GARBAGE; hpos[u & MASK] = NONE :: else -> skip fi; \
     u++ \
  :: else -> break \
  od; \
  u = 0

inline commit() {
#ifdef M_COMMIT_LOAD_FIRST
  d_step { t_c = CONSUMER_POS }
#endif
#ifdef M_COMMIT_WAIT_FIRST
  d_step { t_w = WAIT }
#endif
  d_step {                                                                     /* [K1] xchg */
#ifndef OVERWRITE
    /* [P1] the payload, plain stores before the exchange: outside overwrite mode
       nobody reads a record's bytes before its commit, so they move to here */
    PAYLOAD;
#endif
    assert(hpos[pos & MASK] == pos && (hdr[pos & MASK] & BUSY));   /* still ours */
    if
    :: disc -> hdr[pos & MASK] = L | DISCARD; rs[pos] = RS_DISCARDED
    :: else -> hdr[pos & MASK] = L; rs[pos] = RS_COMMITTED
    fi;
    nowake[pos] = (flags == F_NOWAKE)
  }
#ifdef M_OUTPUT_WAIT_FIRST
  d_step { t_w = WAIT }   /* [K2]: commit keeps its order under output()'s mutation */
#endif
  wake_rule()
}

/* [K2] [K3] the wakeup rule after the full barrier that made record pos
   visible (commit's exchange, or the PRODUCER_POS store of output()'s one call) */
inline wake_rule() {
  if
  :: flags == F_NOWAKE -> skip
  :: flags == F_FORCE -> wake(1)
  :: else ->
#if !defined(M_COMMIT_WAIT_FIRST) && !defined(M_OUTPUT_WAIT_FIRST)
     /* [K2] only an ARMED consumer can need the wakeup: one awake or napping
        stores WAIT before its last look, which sees this record */
     d_step { t_w = WAIT }
#endif
     if
     :: t_w != ARMED -> skip
     :: else ->
#ifndef M_COMMIT_LOAD_FIRST
        d_step { t_c = CONSUMER_POS }                                          /* [K3] */
#endif
        /* the consumer has caught up with this record: it may be asleep */
        if
        :: (t_c & MASK) == (pos & MASK) -> wake(0)
#if defined(OVERWRITE) && defined(HALFWAKE)
        /* overwrite mode: also when the record crosses the ring's half or its end */
        :: (t_c & MASK) != (pos & MASK) &&
           (((pos & MASK) < SIZE / 2 && (pos & MASK) + L >= SIZE / 2) || (pos & MASK) + L > MASK) -> wake(0)
#endif
        :: else -> skip
        fi
     fi
  fi;
  t_c = 0; t_w = 0
}

/* ================================================================== */
/* ring-buffer.ts output() and ring.ts outputAt(): one call per record  */
/* on a single-producer ring (SINGLE: NPROD 1, lock mode, no overwrite) */

inline output_one() {
  ok = 0;
  /* [U1] output(): where the next payload lands, if CONS_SEEN shows room
     (plain loads of words only this producer writes) */
#ifndef M_OUTPUT_NO_ROOM
  d_step { t_prod = PRODUCER_POS; t_c = CONS_SEEN; t = (t_prod + L - t_c > SIZE - 1) }
#else
  d_step { t_prod = PRODUCER_POS; t = 0 }
#endif
  if
  :: t == 0 ->
     /* [U2] the payload, plain stores into space past PRODUCER_POS: nobody else
        writes it and the consumer does not read it; outputAt() publishes it */
     d_step {
       pos = t_prod;
       u = pos;
       do
       :: u < pos + L -> assert(own[u & MASK] == NONE); u++   /* free space, no one's record */
       :: else -> break
       od;
       PAYLOAD
     }
#ifdef M_OUTPUT_WAIT_FIRST
     d_step { t_w = WAIT }
#endif
     /* [U3] outputAt(): reserve's checks (the record lands at pos: one producer),
        the header born committed, then the PRODUCER_POS store, the one full barrier */
     d_step {
       reserve_entry();
#ifndef M_OUTPUT_NO_ROOM
       assert(rl == 0);   /* CONS_SEEN, which only this producer writes, showed room at [U1] */
#else
       if :: rl == 1 -> t = 1; rl = 0 :: else -> skip fi;   /* declined: the payload was written anyway */
#endif
       if
       :: t == 0 ->
          assert(t_prod == pos);
          hdr[pos & MASK] = L; hown[pos & MASK] = me; hpos[pos & MASK] = pos;
          PRODUCER_POS = t_next; publish_ghost(t_prod, t_next);
          rs[pos] = RS_COMMITTED; nowake[pos] = (flags == F_NOWAKE); ok = 1
       :: else -> t = 0
       fi;
       t_prod = 0; t_next = 0; t_pend = 0; t_c = 0
     }
  :: else -> t = 0
  fi;
  if
  :: ok -> wake_rule()
  :: else ->
     /* [U4] declined: reserve and commit, as output() on any ring */
     reserve();
     if :: ok -> commit() :: else -> skip fi
  fi
}

/* ================================================================== */
/* producers                                                           */

#define LENOF(P) ((P) < 10 -> (P) : (k == 0 -> (P) / 10 : (P) % 10))
#define NRECOF(me) (me == 1 -> NREC1 : (me == 2 -> NREC2 : NREC3))

proctype producer(byte me) {
  byte k, L, pos, t_prod, t_next, t_pend, t_c, t_over, t_n, t_v, t_w, t_seq, h, u;
  bit ok, disc, lk, rl, ow;
  byte t;
  byte flags;
#ifdef REAP
  {
#endif
    do
    :: k < NRECOF(me) ->
       if
       :: me == 1 && LEN1 > 0 -> L = LENOF(LEN1)
       :: me == 2 && LEN2 > 0 -> L = LENOF(LEN2)
       :: me == 3 && LEN3 > 0 -> L = LENOF(LEN3)
       :: else -> if :: L = 1 :: L = 2 fi
       fi;
#ifdef SINGLE
#ifdef FLAGS
       if :: flags = F_DEFAULT :: flags = F_NOWAKE :: flags = F_FORCE fi;
#endif
       output_one();
       ok = 0; flags = 0; pos = 0
#elif defined(ROOMWAIT)
       reserve_wait();
#else
       reserve();
#endif
#ifndef SINGLE
       if
       :: ok ->
#ifdef OVERWRITE
          /* [P1] the payload: plain stores; the consumer's copy may race with them */
          d_step { PAYLOAD }
#endif
#ifdef DISCARDS
          if :: disc = 0 :: disc = 1 fi;
#endif
#ifdef FLAGS
          if :: flags = F_DEFAULT :: flags = F_NOWAKE :: flags = F_FORCE fi;
#endif
          commit();
          disc = 0; flags = 0; pos = 0; ok = 0
       :: else -> skip
       fi;
#endif
progress_record:
       k++; L = 0
    :: else -> break
    od;
    done[me] = 1
#ifdef REAP
  } unless {
    doomed[me] ->
    /* a terminated worker leaves the futex wait lists */
    d_step { dead[me] = 1; fw_lock = fw_lock & ~BIT(me); fw_room = fw_room & ~BIT(me) }
  }
#endif
}

/* ================================================================== */
/* the consumer: walk.ts (walk, publish), wait.ts (arm, look, nap, sleep) */

/* [X1..X3] after a publish, wake the producers waiting for room */
inline room_check() {
#ifdef ROOMWAIT
  d_step { t = ROOM_WAITERS }                                                  /* [X1] */
  if
  :: t != 0 -> d_step { ROOM_SEQ++; t = 0 }; notify_room()                     /* [X2] [X3] */
  :: else -> skip
  fi
#else
  skip
#endif
}

inline notify_room() {
  d_step { fw_room = 0 }
}

/* [D4] store CONSUMER_POS (lock or claim mode) */
inline publish_plain() {
     d_step {                                                                  /* [D4] */
#if defined(CAS) && !defined(M_CAS_NO_FILL)
       /* claim mode: consumed space reads BUSY before it is released. Nobody
          else touches those units until the CAS below, so the fill is a mover. */
       u = old;
       do
       :: u < cons -> hdr[u & MASK] = FREE; hpos[u & MASK] = NONE; u++
       :: else -> break
       od;
       u = 0;
#endif
       /* release: cmpxchg(CONSUMER_POS, old, cons) */
       assert(CONSUMER_POS == old);   /* nobody else moves it in these modes */
       CONSUMER_POS = cons;
       release_ghost(old, cons)
     }
}

/* [T2] release(): cmpxchg(CONSUMER, token, 0) */
inline release_token() {
  d_step { if :: TOKEN == cid -> TOKEN = 0 :: else -> skip fi }
}

/* one pass, lock or claim mode: walk to the first BUSY header, publishing as it goes */
inline pass_plain() {
  old = cons;
  d_step { prod = PRODUCER_POS }                                               /* [D1] */
  do
  :: cons < prod ->
     d_step {                                                                  /* [D2] */
       h = hdr[cons & MASK];
       if
       :: h & BUSY -> t = 1
       :: else ->
          t = 0;
          assert(hpos[cons & MASK] == cons);      /* the header is the record at cons */
          if
          :: h & DISCARD -> assert(rs[cons] == RS_DISCARDED); rs[cons] = RS_SKIPPED
          :: else ->
             assert(rs[cons] == RS_COMMITTED);    /* delivered once */
             u = cons;
             do
             :: u < cons + (h & LENMASK) -> assert(pay[u & MASK] == cons); u++   /* not torn */
             :: else -> break
             od;
#ifdef CLOSE
             assert(cons >= lastdel); lastdel = cons + (h & LENMASK); t = 2;   /* in order, across both consumers */
#endif
             rs[cons] = RS_DELIVERED; n++
          fi;
          cons = cons + (h & LENMASK)
       fi;
       h = 0; u = 0
     }
     if :: t == 1 -> t = 0; break :: else -> skip fi;
#ifdef CLOSE
     /* [T1] the callback of the record just delivered may close the consumer:
        the walk delivers nothing after it */
     if :: t == 2 && cid == 1 -> t = 0; if :: closing = 1; break :: skip fi :: else -> t = 0 fi
#endif
  :: else ->
     /* [D3] exhausted: publish what was read so far, or not (the code does
        every sixteenth of a ring), and look at the producers waiting for
        room, or owe them that look (the code looks every quarter ring);
        then look at PRODUCER_POS again */
     if
     :: cons != old ->
        publish_plain(); old = cons;
#ifdef ROOMWAIT
        if :: room_check(); owed = 0 :: owed = 1 fi
#endif
     :: true -> skip
     fi;
     d_step { if :: PRODUCER_POS > prod -> prod = PRODUCER_POS; t = 0 :: else -> t = 1 fi }
     if :: t == 1 -> t = 0; break :: else -> skip fi
  od;
#if defined(CLOSE) && defined(M_RELEASE_BEFORE_PUBLISH)
  if :: closing -> release_token() :: else -> skip fi;
#endif
  /* the end of a pass publishes, and looks at the producers waiting for room
     if it publishes or owes them the look */
  if
  :: cons != old -> publish_plain(); room_check()
#ifndef M_ROOM_NOT_OWED
  :: cons == old && owed -> room_check()
#endif
  :: else -> skip
  fi;
#if defined(CLOSE) && !defined(M_RELEASE_BEFORE_PUBLISH)
  /* [T2] closed: only once its position is published, the token */
  if :: closing -> release_token() :: else -> skip fi;
#endif
  owed = 0; old = 0; prod = 0
}


/* #moved(): whether a producer moved CONSUMER_POS past cons. g = 0: no;
   g = 1: yes, and the gap is taken (cons moved; acc, the OVERWRITTEN last
   accounted for, is what the record after the gap reports less what the
   record before it did); g = 2: a move is under way (OVERWRITE_POS has not reached the new
   CONSUMER_POS), so the gap is not taken and the pass ends */
inline take_gap() {
  g = 0;
  do
  :: d_step { mv = CONSUMER_POS }                                              /* [D8] */
     if
     :: mv <= cons -> break
     :: else ->
#ifndef M_MOVE_GIVE_UP
        /* [D9] OVERWRITE_POS, [D10] OVERWRITTEN, [D11] CONSUMER_POS again, as
           one step: OVERWRITE_POS only grows, and while CONSUMER_POS stays mv
           with OVERWRITE_POS at it nothing writes OVERWRITTEN; if CONSUMER_POS
           moved, [D11] fails whatever the loads before it read */
        d_step {
          if
          :: OVERWRITE_POS < mv -> g = 2
          :: else ->
             t = OVERWRITTEN;
             if
             :: CONSUMER_POS == mv -> acc = t; cons = mv; g = 1
             :: else -> skip
             fi
          fi;
          t = 0
        }
        if :: g != 0 -> break :: else -> skip fi
#else
        /* the bounded spin gave up: no [D9] */
        d_step { t = OVERWRITTEN }                                             /* [D10] */
        d_step {                                                               /* [D11] */
          if
          :: CONSUMER_POS == mv -> acc = t; cons = mv; g = 1
          :: else -> skip
          fi;
          t = 0
        }
        if :: g == 1 -> break :: else -> skip fi
#endif
     fi
  od;
  mv = 0
}

/* one pass, overwrite mode: copy each record, then claim it by CAS */
inline pass_overwrite() {
  old = cons;
  d_step { prod = PRODUCER_POS }                                               /* [D1] */
  do
  :: cons < prod ->
     d_step { h = hdr[cons & MASK]; hp = hpos[cons & MASK] }                   /* [D2] */
     if
     :: h & BUSY ->
        /* [D5] BUSY: wait for its producer, unless a producer passed us */
        h = 0; hp = 0;
        take_gap();
        if :: g == 1 -> g = 0 :: else -> g = 0; break fi
     :: else ->
        nx = cons + (h & LENMASK);
        if
        :: nx > prod ->
           /* [D5] a header from another lap: we were passed */
           h = 0; hp = 0; nx = 0;
           take_gap();
           assert(g != 0);
           if :: g == 1 -> g = 0 :: else -> g = 0; break fi
        :: else ->
           if
           :: (h & DISCARD) == 0 ->
              /* [D6] copy the payload (plain loads) */
              d_step {
                cpok = 1; u = cons;
                do
                :: u < nx -> if :: pay[u & MASK] != cons -> cpok = 0 :: else -> skip fi; u++
                :: else -> break
                od;
                u = 0
              }
           :: else -> skip
           fi;
           d_step {                                                            /* [D7] cmpxchg(CONSUMER_POS, cons, next) */
#ifdef M_CONSUMER_STORE
             t = 1; CONSUMER_POS = nx;
#else
             t = (CONSUMER_POS == cons);
             if :: t -> CONSUMER_POS = nx :: else -> skip fi;
#endif
             if
             :: t ->
                assert(hp == cons);
                if
                :: h & DISCARD -> assert(rs[cons] == RS_DISCARDED); rs[cons] = RS_SKIPPED
                :: else ->
                   assert(rs[cons] == RS_COMMITTED);   /* delivered once, and not overwritten */
                   assert(cpok);                       /* not torn */
                   /* its loss count (OVERWRITTEN as last read, less what the previous
                      record reported) is exactly the records passed since that
                      record: OVERWRITTEN as last read counts every record passed */
                   u = START; mv = 0;
                   do
                   :: u < cons -> if :: rs[u] == RS_OVERWRITTEN -> mv++ :: else -> skip fi; u++
                   :: else -> break
                   od;
                   assert(acc == mv); mv = 0; u = 0;
                   rs[cons] = RS_DELIVERED; n++
                fi;
                release_ghost(cons, nx);
                cons = nx
             :: else -> skip
             fi;
             h = 0; hp = 0; nx = 0; cpok = 0
           }
           if
           :: t -> t = 0
           :: else ->
              /* a producer moved CONSUMER_POS: take the gap, or end the pass */
              take_gap();
              assert(g != 0);
              if :: g == 1 -> g = 0 :: else -> g = 0; break fi
           fi
        fi
     fi
  :: else ->
     d_step { if :: PRODUCER_POS > prod -> prod = PRODUCER_POS; t = 0 :: else -> t = 1 fi }   /* [D3] */
     if :: t == 1 -> t = 0; break :: else -> skip fi
  od;
  if
  :: cons != old -> room_check()
  :: else -> skip
  fi;
  old = 0; prod = 0
}

proctype consumer(byte cid) {
  byte cons = START, old, prod, h, hp, nx, n, t, u, acc, mv, g;
  bit cpok, owed, closing;
#ifdef CLOSE
  if
  :: cid == 2 ->
     /* a second consumer: [T3] its constructor's cmpxchg(CONSUMER, 0, token),
        possible once the first consumer's token is free, [T4] then its
        CONSUMER_POS load */
end_token:
     d_step { TOKEN == 0 -> TOKEN = cid }
     d_step { cons = CONSUMER_POS }
  :: else -> skip
  fi;
#endif
  do
  :: n = 0;
#ifdef OVERWRITE
     pass_overwrite();
#else
     pass_plain();
#endif
#ifdef CLOSE
     if :: closing -> break :: else -> skip fi;
#endif
     if
     :: n > 0 -> progress_delivered: skip
     :: else -> skip
     fi;
     if
     :: n > 0 && NAPS ->
        /* [N1] nap: WAIT = NAPPING, then wait at most the budget; a timeout may
           come at any time, and a notify only ends it sooner: [N2] WAIT = AWAKE */
        d_step { WAIT = NAPPING; n = 0 }
        d_step { WAIT = AWAKE }
     :: n > 0 && !NAPS -> n = 0
     :: n == 0 ->
        /* [A1] arm: announce the sleep, then look once more */
        d_step { WAIT = ARMED }
#ifndef M_NO_SECOND_LOOK
#ifdef OVERWRITE
        /* [A2] a producer may have moved us: take the gap and go on, or,
           with the move under way, sleep (its mover wakes us after [O6]) */
        take_gap();
        if
        :: g == 1 -> g = 0; d_step { WAIT = AWAKE }; goto again
        :: g == 2 -> g = 0; goto to_sleep
        :: else -> skip
        fi;
#endif
        d_step { t = PRODUCER_POS }                                            /* [A3] */
        if
        :: cons < t ->
           d_step { t = hdr[cons & MASK] }                                     /* [A4] */
           if
           :: (t & BUSY) == 0 -> d_step { WAIT = AWAKE; t = 0 }; goto again     /* [A5] */
           :: else -> t = 0
           fi
        :: else -> t = 0
        fi;
#endif
#ifdef OVERWRITE
to_sleep: skip;   /* (a goto may not jump into a d_step) */
#endif
        /* [S1] sleep: wait32(WAIT, ARMED, -1), no timeout */
        d_step {
          if
          :: WAIT == ARMED -> fw_wait = 1; csleep = 1
#ifdef OVERWRITE
             ; csleepat = cons
#endif
          :: else -> skip
          fi
        }
end_sleep:
        fw_wait == 0;
        d_step {                                                               /* [S2] */
          csleep = 0; WAIT = AWAKE
#ifdef OVERWRITE
          ; csleepat = 0
#endif
        }
     fi;
again:
     skip
  od
}

/* ================================================================== */
/* HOSTILE: code that writes CONSUMER_POS at will (forward, up to PRODUCER_POS) */

proctype scribbler() {
end_scribble:
  do
  :: atomic {
       CONSUMER_POS < PRODUCER_POS ->
       CONSUMER_POS++;
       do
       :: CONSUMER_POS < PRODUCER_POS -> CONSUMER_POS++
       :: break
       od
     }
  od
}

/* ================================================================== */
/* REAP: producer KILLABLE may die at any step; the reaper reaps it    */

proctype killer() {
  if
  :: skip
#ifdef KILL_IN_MOVE
  /* only inside a move (overwriteOldest, from the step that finds no room to its end) */
  :: d_step { inmove -> doomed[KILLABLE] = 1 }
#else
  :: d_step { !done[KILLABLE] -> doomed[KILLABLE] = 1 }
#endif
  fi
}

/* [G3] what reap() does in the step that takes the lock */
inline reap_entry() {
  t_prod = PRODUCER_POS; rp = PENDING_POS
}

proctype reaper() {
  byte me = REAPER, p, t_v, t_w, t_prod, rp, h;
  bit t, lk;
end_reaper:
  do
  :: atomic { dead[KILLABLE] && !reaped[KILLABLE] -> p = KILLABLE }
     /* [G1] the dead producer may hold the lock: recover it */
     d_step { t_v = LOCK; t = (t_v != 0 && (t_v & ~CONTENDED) == p); if :: t -> LOCK = 0 :: else -> skip fi }
#ifdef SPEC_REAP_LOCK
     if :: t -> notify_lock_all() :: else -> skip fi;
#else
     /* [G2] notify LOCK whatever it found: the producer may have died between
        lockRelease's xchg and its notify, leaving a sleeper nobody will wake */
     notify_lock_all();
#endif
     t = 0; t_v = 0;
     LOCK_ACQUIRE(me, reap_entry());
     /* [G4] discard every BUSY record it reserved in [PENDING_POS, PRODUCER_POS) */
     do
     :: rp < t_prod ->
        d_step {
          h = hdr[rp & MASK];
          if
          :: (h & BUSY) && hown[rp & MASK] == p ->
             assert(hpos[rp & MASK] == rp && rs[rp] == RS_BUSY);
             hdr[rp & MASK] = (h & LENMASK) | DISCARD; rs[rp] = RS_DISCARDED
          :: else -> skip
          fi;
          rp = rp + (h & LENMASK); h = 0
        }
     :: else -> break
     od;
#if defined(OVERWRITE) && !defined(M_REAP_NO_MOVE)
     /* [G8] a move under way (its producer died between its CONSUMER_POS
        cmpxchg and its OVERWRITE_POS store): complete it */
     skip;   /* (the loop's break may not jump into a d_step) */
     d_step { t = (OVERWRITE_POS < CONSUMER_POS); rp = CONSUMER_POS }
     if
     :: t ->
        d_step { OVERWRITTEN = MOVE_TOTAL }
        d_step { OVERWRITE_POS = rp }
     :: else -> skip
     fi;
     t = 0; rp = 0;
#endif
     lock_release();
#if defined(ROOMWAIT) && !defined(M_REAP_KEEPS_WAITER)
     /* [G7] reapProducer: clear the dead producer's ROOM_BITS bit and, if it
        was set, ROOM_WAITERS -= 1 (the and touches only its bit, which nobody
        else writes once it is dead: a mover, so one step) */
     d_step { if :: ROOM_BITS & BIT(p) -> ROOM_WAITERS-- :: else -> skip fi; ROOM_BITS = ROOM_BITS & ~BIT(p) }
#endif
     wake(0);                                                                  /* [G5] */
#ifndef SPEC_REAP_WAKE
     /* [G6] notify WAIT whatever wake() found: the producer may have died
        between wake()'s cmpxchg and its notify, leaving the consumer asleep */
     notify_wait();
#endif
     d_step { reaped[p] = 1; p = 0; rp = 0; t_prod = 0 }
  od
}

#ifndef PERFBUF
/* ================================================================== */
/* the end: when nothing can move any more, check what is left          */

proctype monitor() {
  byte i, c, nover;
  timeout ->
  d_step {
    i = 1;
    do
    :: i <= NPROD ->
       assert(done[i] || dead[i]);                 /* nobody blocked for ever (room, lock) */
       assert(!dead[i] || reaped[i]);
       i++
    :: else -> break
    od;
    assert(DROPPED == refusals);                    /* every refusal counted once */
#ifdef ROOMWAIT
    assert(ROOM_WAITERS == 0);                      /* nobody finished or reaped is still counted waiting for room */
#endif
#ifndef HOSTILE
    assert(csleep);                                 /* the consumer blocks only in its sleep */
    c = CONSUMER_POS;
    /* no lost wakeup: asleep for ever only with nothing at its position, or
       with a record there that was committed with NO_WAKEUP */
    assert(c == PRODUCER_POS || ((hdr[c & MASK] & BUSY) == 0 && nowake[c]));
    /* every committed record behind CONSUMER_POS was delivered (or overwritten) */
    i = START;
    do
    :: i < c -> assert(rs[i] != RS_COMMITTED && rs[i] != RS_BUSY); i++
    :: else -> break
    od;
#if defined(OVERWRITE)
    nover = 0; i = 0;
    do
    :: i < MAXPOS -> if :: rs[i] == RS_OVERWRITTEN -> nover++ :: else -> skip fi; i++
    :: else -> break
    od;
    assert(OVERWRITTEN == nover);                   /* every overwritten record counted */
    assert(csleepat == CONSUMER_POS);               /* no gap left untaken: asleep at CONSUMER_POS */
#endif
#endif
    i = 0; c = 0; nover = 0
  }
}

init {
  byte i;
  atomic {
    PENDING_POS = START; CONS_SEEN = START; PRODUCER_POS = START; CONSUMER_POS = START; OVERWRITE_POS = START;
    i = 0;
    do
    :: i < SIZE ->
       own[i] = NONE; hpos[i] = NONE; pay[i] = NONE;
#ifdef CAS
       hdr[i] = FREE;
#endif
       i++
    :: else -> break
    od;
    i = 0;
#ifdef HOSTILE
    run scribbler();
#else
    run consumer(1);
#ifdef CLOSE
    TOKEN = 1;
    run consumer(2);
#endif
#endif
    run producer(1);
#if NPROD >= 2
    run producer(2);
#endif
#if NPROD >= 3
    run producer(3);
#endif
#ifdef REAP
    run killer();
    run reaper();
#endif
    run monitor()
  }
}
#endif

/* ================================================================== */
/* PERFBUF: an ordered per-producer buffer (src/perfbuf): PB_N producers,  */
/* each with its own single-producer ring of PB_CAP records, merged back   */
/* into one order by stamp. Its own processes: the rings' protocol is      */
/* checked by the runs above (SINGLE), so a ring is abstract here: a       */
/* reservation, a commit, the consumer's look at its head and its publish  */
/* are one step each.                                                      */

#ifdef PERFBUF
#define PB_N 2
#ifndef PB_CAP
#define PB_CAP 1             /* records a producer's ring holds */
#endif
#ifndef PB_NREC
#define PB_NREC 2            /* reservations per producer */
#endif
#define PB_IDLE 255          /* LOW of a producer with nothing reserved: odd, never a stamp */
#define PB_R(k, j) ((k) * PB_NREC + (j))

byte COUNTER;                /* the next stamp: +2 per record */
byte LOW[PB_N];              /* PB_IDLE, or a lower bound of the stamp of any record k has not committed */
byte HELD;                   /* the consumer sleeps with a committed record held back by the watermark */
byte wr[PB_N];               /* ring k's PRODUCER_POS, in records */
byte rd[PB_N];               /* ring k's CONSUMER_POS, in records */
/* the records, by ring and position: state (the header), stamp (the prefix) */
byte pst[PB_N * PB_NREC];
byte pstamp[PB_N * PB_NREC];
bit  pnw[PB_N * PB_NREC];    /* ghost: committed with NO_WAKEUP */
byte nextmin;                /* ghost: every stamp delivered from now on is at least this */
bit  pbdone[PB_N];

/* [B8] the fix's wakeup when the consumer holds records back: wake(false) if HELD != 0 */
inline wake_if_held() {
  d_step { t = HELD }                                                          /* [B8] */
  if :: t -> t = 0; wake(0) :: else -> skip fi
}

proctype pbprod(byte k) {
  byte j, c, t, t_w, fl;
  bit ok;
  do
  :: j < PB_NREC ->
     /* nothing outstanding: [B1] COUNTER (read fresh), [B2] LOW[k] = that */
     d_step { c = COUNTER }                                                    /* [B1] */
     d_step { LOW[k] = c; c = 0 }                                              /* [B2] */
     /* [B3] reserve in its ring: room, the header BUSY, PRODUCER_POS */
     d_step {
       if
       :: wr[k] - rd[k] < PB_CAP -> pst[PB_R(k, wr[k])] = RS_BUSY; wr[k]++; ok = 1
       :: else -> ok = 0
       fi
     }
     if
     :: ok ->
        /* [B4] stamp = fetch_add(COUNTER, 2), written into the record's prefix
           (a plain store into a BUSY record, which nobody reads before its
           commit: a mover) */
        d_step { pstamp[PB_R(k, wr[k] - 1)] = COUNTER; COUNTER = COUNTER + 2 }
        if :: fl = F_DEFAULT :: fl = F_NOWAKE fi;
        /* [B5] commit the record's header, without the ring's own wakeup */
        d_step { pst[PB_R(k, wr[k] - 1)] = RS_COMMITTED; pnw[PB_R(k, wr[k] - 1)] = (fl == F_NOWAKE) }
        d_step { LOW[k] = PB_IDLE }                                            /* [B6] */
        /* [B7] the wakeup */
        if
        :: fl == F_DEFAULT -> wake(0)
        :: else ->
#ifndef M_PB_NOWAKE_IGNORES_HELD
           wake_if_held()
#else
           skip
#endif
        fi
     :: else ->
        /* refused: [B6] LOW[k] = IDLE, then the wakeup if records are held */
        d_step { LOW[k] = PB_IDLE }
#ifndef M_PB_REFUSE_NO_WAKE
        wake_if_held()
#endif
     fi;
     ok = 0; fl = 0;
     j++
  :: else -> break
  od;
  pbdone[k] = 1
}

/* [E3] the head of ring k: its stamp if it is committed and below the
   watermark w (PB_IDLE otherwise), and whether it is committed but held back.
   PRODUCER_POS, the header and the prefix in one step: PRODUCER_POS only grows
   and a header only goes from BUSY to committed, so reading them together
   reads what the loads in turn would */
inline pb_peek(k, r) {
  d_step {                                                                     /* [E3] */
    r = PB_IDLE;
    if
    :: cp[k] < wr[k] && pst[PB_R(k, cp[k])] == RS_COMMITTED ->
       if
       :: pstamp[PB_R(k, cp[k])] < w -> r = pstamp[PB_R(k, cp[k])]
       :: else -> held = 1
       fi
    :: else -> skip
    fi
  }
}

/* [E1] COUNTER, then [E2] each LOW: the watermark w */
inline pb_watermark() {
  d_step { w = COUNTER }                                                       /* [E1] */
  d_step { if :: LOW[0] != PB_IDLE && LOW[0] < w -> w = LOW[0] :: else -> skip fi }   /* [E2] */
  d_step { if :: LOW[1] != PB_IDLE && LOW[1] < w -> w = LOW[1] :: else -> skip fi }   /* [E2] */
}

proctype pbcons() {
  byte cp[PB_N], w, r0, r1, t, u;
  bit held;
  do
  :: /* a pass: #merge() */
     do
     :: pb_watermark();
        pb_peek(0, r0); pb_peek(1, r1); held = 0;
        if
        :: r0 == PB_IDLE && r1 == PB_IDLE -> w = 0; break
        :: else -> skip
        fi;
        /* deliver, lowest stamp first, every head below w */
        do
        :: r0 != PB_IDLE || r1 != PB_IDLE ->
           if :: r0 <= r1 -> t = 0 :: else -> t = 1 fi;
           d_step {                                                            /* [E4] deliver */
             u = PB_R(t, cp[t]);
             assert(pst[u] == RS_COMMITTED && pstamp[u] >= nextmin);   /* once, and in stamp order */
             nextmin = pstamp[u] + 1; pst[u] = RS_DELIVERED; cp[t]++; u = 0
           }
           if :: t == 0 -> pb_peek(0, r0) :: else -> pb_peek(1, r1) fi;
           held = 0; t = 0
        :: else -> break
        od
     od;
     /* [E5] publish each ring's CONSUMER_POS */
     if :: rd[0] != cp[0] -> d_step { rd[0] = cp[0] } :: else -> skip fi;     /* [E5] */
     if :: rd[1] != cp[1] -> d_step { rd[1] = cp[1] } :: else -> skip fi;     /* [E5] */
     /* [A1] arm, [H1] HELD = 1, then the second look (#mergeable) */
     d_step { WAIT = ARMED }                                                   /* [A1] */
     d_step { HELD = 1 }                                                       /* [H1] */
     pb_watermark();
     pb_peek(0, r0); pb_peek(1, r1); w = 0;
     if
     :: r0 != PB_IDLE || r1 != PB_IDLE -> r0 = 0; r1 = 0; held = 0; d_step { WAIT = AWAKE }   /* [A5] */
     :: else ->
        r0 = 0; r1 = 0;
        /* [H2] nothing committed is held back: HELD = 0 */
        if :: !held -> d_step { HELD = 0 } :: else -> held = 0 fi;
        /* [S1] sleep: wait32(WAIT, ARMED, -1) */
        d_step { if :: WAIT == ARMED -> fw_wait = 1; csleep = 1 :: else -> skip fi }
end_pbsleep:
        fw_wait == 0;
        d_step { csleep = 0; WAIT = AWAKE }                                    /* [S2] */
     fi
  od
}

proctype pbmonitor() {
  byte k, j, u;
  timeout ->
  d_step {
    assert(csleep);                                 /* the consumer blocks only in its sleep */
    k = 0;
    do
    :: k < PB_N ->
       assert(pbdone[k] && LOW[k] == PB_IDLE);
       j = 0;
       do
       :: j < wr[k] ->
          u = PB_R(k, j);
          /* no lost wakeup: every record committed with default flags was
             delivered, and so (stamp order) was every record stamped before it */
          assert(pst[u] == RS_DELIVERED || (pst[u] == RS_COMMITTED && pnw[u] && pstamp[u] >= nextmin));
          j++
       :: else -> break
       od;
       k++
    :: else -> break
    od;
    k = 0; j = 0; u = 0
  }
}

init {
  atomic {
    LOW[0] = PB_IDLE; LOW[1] = PB_IDLE;
    run pbcons();
    run pbprod(0);
    run pbprod(1);
    run pbmonitor()
  }
}
#endif
