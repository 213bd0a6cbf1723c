// The protocol of kernel/bpf/ringbuf.c over one shared memory: reserve,
// commit (submit or discard), wake and query, and the consumer's release of
// space. Every barrier names its partner; wasm atomics are sequentially
// consistent, so each one is at least the kernel's acquire or release.

import {
  MAGIC, VERSION, OFF_MAGIC, OFF_VERSION, OFF_SIZE, OFF_MASK, OFF_FLAGS, OFF_MAX_RECORD, OFF_PENDING_POS,
  OFF_CONS_SEEN, OFF_LOSS_BASE, OFF_DROPPED, OFF_PRODUCER_POS, OFF_CONSUMER_POS, OFF_CONSUMER_DROPS, OFF_WAIT,
  OFF_ROOM_WAITERS, OFF_ROOM_SEQ, OFF_ROOM_BITS, OFF_MOVE_TOTAL, OFF_MOVE_TO, OFF_CONSUMER_LAST, OFF_DISCARDED, OFF_WAKEUPS, OFF_REAPED, OFF_PRODUCERS, PRODUCER_ENTRY,
  ENTRY_DROPPED, ENTRY_DISCARDED, REAP_LOCK_RECOVERED, LOCK_CONTENDED, DATA_OFFSET, HDR_SIZE, BUSY_BIT,
  DISCARD_BIT, LEN_MASK, ID_SHIFT, DROPS_MASK, MAX_PRODUCER_ID, LOSS_ID, LOSS_LEN, LOCK_HELD,
  FLAG_OVERWRITE, FLAG_SINGLE, OFF_OVERWRITE_POS, OFF_OVERWRITTEN, OFF_LOCK, WAIT_AWAKE, WAIT_ARMED, WAIT_NAPPING,
  BPF_RB_NO_WAKEUP, BPF_RB_FORCE_WAKEUP, BPF_RB_AVAIL_DATA, BPF_RB_RING_SIZE, BPF_RB_CONS_POS, BPF_RB_PROD_POS,
  BPF_RB_OVERWRITE_POS, RESERVE_CAN_BLOCK, RESERVE_QUIET, WALK_STRETCH, OFF_GENS, REVOKED, COMMIT_REVOKED,
} from "./layout";
import { lockAcquire, lockRelease } from "./lock";
import { reserveSpecialIds } from "./ids";

// @ts-ignore: decorator
@inline function stride(len: u32): u64 {
  return <u64>((len + HDR_SIZE + 7) & ~7);
}

// @ts-ignore: decorator
@inline function entry(ctl: usize, id: u32): usize {
  return ctl + OFF_PRODUCERS + <usize>(id * PRODUCER_ENTRY);
}

// @ts-ignore: decorator
@inline function wordOne(owner: u32, dropped: u64): u32 {
  return ((owner & 0xfff) << ID_SHIFT) | (<u32>dropped & DROPS_MASK);
}

/** Producer `id`'s generation now (OFF_GENS). */
// @ts-ignore: decorator
@inline function generation(ctl: usize, id: u32): u32 {
  return atomic.load<u16>(ctl + OFF_GENS + (<usize>id << 1));
}

/** Whether `who` (id | gen << 16) is still its id's generation: false once the producer was reaped. */
// @ts-ignore: decorator
@inline function current(ctl: usize, who: u32): bool {
  return generation(ctl, who & 0xffff) == who >>> 16;
}

/**
 * Counts a refused reservation (ring-wide and for producer `id`) unless
 * `quiet` (a producer that will wait for room and try again); returns 0,
 * reserve()'s "no room".
 */
// @ts-ignore: decorator
@inline function refuse(ctl: usize, id: u32, quiet: bool): usize {
  if (quiet) return 0;
  atomic.add<u64>(ctl, 1, OFF_DROPPED);
  atomic.add<u32>(entry(ctl, id), 1, ENTRY_DROPPED);
  return 0;
}

/**
 * Lays out a fresh ring at `ctl` (the host has validated every argument).
 * `start` is the initial value of every position, a multiple of 8.
 */
export function init(ctl: usize, size: u32, maxRecord: u32, flags: u32, start: f64): void {
  const pos = <u64>start;
  memory.fill(ctl, 0, DATA_OFFSET); // control block and producer table
  store<u32>(ctl, size, OFF_SIZE);
  store<u32>(ctl, size - 1, OFF_MASK);
  store<u32>(ctl, flags, OFF_FLAGS);
  store<u32>(ctl, maxRecord, OFF_MAX_RECORD);
  store<u64>(ctl, pos, OFF_PENDING_POS);
  store<u64>(ctl, pos, OFF_CONS_SEEN);
  store<u64>(ctl, pos, OFF_PRODUCER_POS);
  store<u64>(ctl, pos, OFF_CONSUMER_POS);
  store<u64>(ctl, pos, OFF_OVERWRITE_POS);
  store<u64>(ctl, pos, OFF_MOVE_TO);
  store<f64>(ctl, start, OFF_CONSUMER_LAST);
  reserveSpecialIds(ctl);
  store<u32>(ctl, VERSION, OFF_VERSION);
  // last: attach() trusts nothing until it sees the magic
  atomic.store<u32>(ctl, MAGIC, OFF_MAGIC);
}

/**
 * bpf_ringbuf_reserve(): returns the address of a `len`-byte payload, or 0
 * when the ring has no room now (counted in DROPPED unless `opts` has
 * QUIET), or REVOKED when producer `who` (id | gen << 16) was reaped. The
 * host has checked that len <= MAX_RECORD.
 */
export function reserve(ctl: usize, len: u32, who: u32, opts: u32): usize {
  const id = who & 0xffff;
  const quiet = (opts & RESERVE_QUIET) != 0;
  assert(len <= load<u32>(ctl, OFF_MAX_RECORD)); // the host validated it
  const flags = load<u32>(ctl, OFF_FLAGS);
  const mask = <u64>load<u32>(ctl, OFF_MASK);
  const overwrite = (flags & FLAG_OVERWRITE) != 0;
  // A full ring is found full without the lock, so a producer that retries
  // on "no room" neither takes the lock nor slows the one that holds it. A
  // reaped producer is told so there too, and counts no refusal.
  if (!overwrite && looksFull(ctl, mask, stride(len))) return current(ctl, who) ? refuse(ctl, id, quiet) : REVOKED;
  // a ring with one producer (a per-producer buffer) needs no lock
  const locked = (flags & FLAG_SINGLE) == 0;
  if (locked) lockAcquire(ctl, LOCK_HELD | id, (opts & RESERVE_CAN_BLOCK) != 0);
  // [F1] under the lock, which reap() holds while it bumps the generation: a
  // reaped producer reserves nothing
  if (!current(ctl, who)) {
    if (locked) lockRelease(ctl);
    return REVOKED;
  }
  const at = reserveLocked(ctl, mask, len, id, overwrite, quiet, locked);
  if (locked) lockRelease(ctl);
  return at;
}

/** Whether `bytes` more would overrun the consumer, by a look that takes no lock. */
// @ts-ignore: decorator
@inline function looksFull(ctl: usize, mask: u64, bytes: u64): bool {
  // Each consumer position before the producer position: read after it, a
  // consumer position could have passed a stale producer position, and the
  // difference would wrap to a ring that looks full.
  const seen = atomic.load<u64>(ctl, OFF_CONS_SEEN);
  if (atomic.load<u64>(ctl, OFF_PRODUCER_POS) + bytes - seen <= mask) return false;
  // pairs with the CONSUMER_POS cmpxchg in advanceConsumer()
  const cons = atomic.load<u64>(ctl, OFF_CONSUMER_POS);
  return atomic.load<u64>(ctl, OFF_PRODUCER_POS) + bytes - cons > mask;
}

/** reserve() under the producer lock (`locked`), or on a single-producer ring. */
function reserveLocked(ctl: usize, mask: u64, len: u32, id: u32, overwrite: bool, quiet: bool, locked: bool, busy: bool = true): usize {
  const data = ctl + DATA_OFFSET;
  const prod = load<u64>(ctl, OFF_PRODUCER_POS);
  // Refusals beyond what word 1's 20 bits carry go first, in a loss record.
  const base = load<u64>(ctl, OFF_LOSS_BASE);
  const dropped = atomic.load<u64>(ctl, OFF_DROPPED);
  const loss: u64 = dropped - base > <u64>DROPS_MASK ? stride(LOSS_LEN) : 0;
  // outputAt(): the payload is already where the record would land without a loss record
  if (loss && !busy) return 0;
  const next = prod + loss + stride(len);
  // A new reservation must never run over a record that is still BUSY,
  // whatever CONSUMER_POS says: PENDING_POS bounds it. Under the lock the
  // walk that moves it past committed records is lazy, because its first
  // header is usually the record another producer has just reserved (a line
  // from its core, in the critical section): it starts once PENDING_POS is
  // half a ring behind, takes WALK_STRETCH records at a time, and walks as
  // far as it can before a refusal, so it refuses exactly when the eager walk
  // would. Without the lock (a single-producer ring) the walk is eager: there
  // is no lock to hand over, and output() writes the payload before this call,
  // against CONS_SEEN only, so space behind PRODUCER_POS must hold no header
  // still to walk.
  let pend = load<u64>(ctl, OFF_PENDING_POS);
  if (!locked || next - pend > (mask >> 1)) {
    let n: u32 = 0;
    while (pend < prod && (!locked || n < WALK_STRETCH || next - pend > mask)) {
      // pairs with the xchg in commit()
      const hdr = atomic.load<u32>(data + <usize>(pend & mask));
      if (hdr & BUSY_BIT) break;
      pend += stride(hdr & LEN_MASK);
      n++;
    }
    if (pend > prod) pend = prod; // a scribbled length; never trust it past the producer
    store<u64>(ctl, pend, OFF_PENDING_POS);
  }
  // CONS_SEEN is CONSUMER_POS as some producer last read it; it only lags,
  // so a ring never looks emptier than it is. Read the consumer's line only
  // when space looks short. Pairs with the CONSUMER_POS cmpxchg in advanceConsumer().
  let cons = load<u64>(ctl, OFF_CONS_SEEN);
  if (next - cons > mask) {
    cons = atomic.load<u64>(ctl, OFF_CONSUMER_POS);
    store<u64>(ctl, cons, OFF_CONS_SEEN);
  }
  if (next - pend > mask || (!overwrite && next - cons > mask)) return refuse(ctl, id, quiet);
  if (overwrite && next - cons > mask) overwriteOldest(ctl, data, mask, next, pend);
  let hdr = data + <usize>(prod & mask);
  if (loss) {
    store<u32>(hdr, wordOne(LOSS_ID, base), 4);
    store<u64>(hdr, (dropped - base) & ~<u64>DROPS_MASK, HDR_SIZE);
    store<u32>(hdr, LOSS_LEN | DISCARD_BIT); // committed at once: the consumer counts it and skips it
    hdr += <usize>loss;
  }
  // a store only when it moves: the lock's line stays as the last holder left it otherwise
  if (dropped != base) store<u64>(ctl, dropped, OFF_LOSS_BASE);
  store<u32>(hdr, wordOne(id, dropped), 4);
  store<u32>(hdr, busy ? len | BUSY_BIT : len);
  // release: the header is in place before the consumer can see the new position;
  // pairs with the PRODUCER_POS load in producerPos()
  atomic.store<u64>(ctl, next, OFF_PRODUCER_POS);
  return hdr + HDR_SIZE;
}

/**
 * bpf_ringbuf_output() in one call, on a single-producer ring (FLAG_SINGLE
 * and no other mode): the producer has already written the `len`-byte
 * payload at `sample`, where its next record's payload lands, in space past
 * PRODUCER_POS that no one else writes and the consumer does not read. The
 * record is born committed: its header is written without BUSY before the
 * PRODUCER_POS store that shows it to the consumer, so one full barrier
 * serves where reserve() and commit() take two; then the wakeup rule of
 * commit(). Returns 0, publishing and counting nothing, when the record would
 * not land at `sample` (no room, a loss record due, another mode): the host
 * then reserves the usual way. Otherwise 1, or 3 when it sent a wakeup.
 */
export function outputAt(ctl: usize, sample: usize, len: u32, who: u32, flags: u32): u32 {
  const id = who & 0xffff;
  assert(len <= load<u32>(ctl, OFF_MAX_RECORD)); // the host validated it
  if (load<u32>(ctl, OFF_FLAGS) != FLAG_SINGLE || !current(ctl, who)) return 0;
  const mask = <u64>load<u32>(ctl, OFF_MASK);
  const at = sample - HDR_SIZE - (ctl + DATA_OFFSET);
  // PRODUCER_POS changes only by this ring's one producer
  if ((load<u64>(ctl, OFF_PRODUCER_POS) & mask) != <u64>at) return 0;
  // born committed: reserveLocked() refuses, quietly, where a loss record would go first
  if (reserveLocked(ctl, mask, len, id, false, true, false, false) == 0) return 0;
  return 1 | (wakeRule(ctl, <u64>at, len, flags) << 1);
}

/**
 * Overwrite mode, under the lock: moves CONSUMER_POS past the oldest unread
 * records until the record ending at `next` fits. The move is a
 * compare-and-swap, as is each of the consumer's, so every record is either
 * read by the consumer or counted in OVERWRITTEN, never both. Only committed
 * records are passed (next - PENDING_POS <= MASK was checked), so a BUSY
 * record is never stepped over.
 */
function overwriteOldest(ctl: usize, data: usize, mask: u64, next: u64, pend: u64): void {
  while (true) {
    // pairs with the compare-and-swap in advanceConsumer()
    const cons = atomic.load<u64>(ctl, OFF_CONSUMER_POS);
    if (cons > next || next - cons <= mask) return; // room now (or a scribbled position: leave it)
    let over = cons;
    let n: u64 = 0;
    while (next - over > mask && over < pend) {
      const hdr = atomic.load<u32>(data + <usize>(over & mask));
      over += stride(hdr & LEN_MASK);
      if ((hdr & DISCARD_BIT) == 0) n++; // a discarded record is no loss
    }
    if (over > pend) over = pend; // a scribbled length; never pass the oldest BUSY record
    // [O4] first, what OVERWRITTEN will be: reap() finishes the move with it
    // if this producer dies before OVERWRITE_POS (only lock holders write both)
    const total = load<u64>(ctl, OFF_OVERWRITTEN) + n;
    atomic.store<u64>(ctl, over, OFF_MOVE_TO);
    atomic.store<u64>(ctl, total, OFF_MOVE_TOTAL);
    if (atomic.cmpxchg<u64>(ctl, cons, over, OFF_CONSUMER_POS) == cons) {
      // [O5] the passed records' bytes change only after this point
      atomic.store<u64>(ctl, total, OFF_OVERWRITTEN);
      // [O6] last: a consumer that finds CONSUMER_POS past OVERWRITE_POS waits for
      // this store, and then takes OVERWRITTEN as this move's (#moved() in
      // src/walk.ts); the wake() below ends its sleep
      atomic.store<u64>(ctl, over, OFF_OVERWRITE_POS);
      // The consumer may be asleep at a record that was committed before this
      // move and whose producer, reading CONSUMER_POS after it, will not wake
      // it: whoever moves CONSUMER_POS looks at WAIT afterwards (pairs with the
      // consumer's WAIT store before its last look, in src/wait.ts).
      wake(ctl, false);
      return;
    }
    // [O7] the consumer moved meanwhile: no move is pending (reap() reads MOVE_TO and MOVE_TOTAL), before
    // the loop's back edge, where a worker can be stopped; then look again from where it is
    atomic.store<u64>(ctl, load<u64>(ctl, OFF_OVERWRITTEN), OFF_MOVE_TOTAL);
    atomic.store<u64>(ctl, atomic.load<u64>(ctl, OFF_OVERWRITE_POS), OFF_MOVE_TO);
  }
}

/**
 * bpf_ringbuf_commit(): submits (or discards) the record whose payload is at
 * `sample`, reserved by producer `who` (id | gen << 16), then wakes the
 * consumer by the kernel's rule. Returns 1 when it sent a wakeup, or
 * COMMIT_REVOKED, writing nothing, when the producer was reaped. A submit
 * with `from` (not 0) first copies the payload from there: the producer's
 * staging bytes, where a reservation's `data` was filled (src/reservation.ts).
 */
export function commit(ctl: usize, sample: usize, flags: u32, discard: bool, from: usize, who: u32): u32 {
  const hdr = sample - HDR_SIZE;
  const busy = load<u32>(hdr);
  const w1 = load<u32>(hdr, 4);
  // [F2] a reaped producer's record was discarded by reap(), and its space
  // may hold another record since: commit only a BUSY header of this id, of a
  // producer whose generation is current
  if (!current(ctl, who) || (busy & BUSY_BIT) == 0 || w1 >>> ID_SHIFT != (who & 0xfff)) return COMMIT_REVOKED;
  let len = busy & ~BUSY_BIT;
  assert(len <= load<u32>(ctl, OFF_MAX_RECORD)); // the host checked that this is a pending reservation
  if (from != 0 && !discard) memory.copy(sample, from, len);
  if (discard) len |= DISCARD_BIT;
  // A full barrier, not a release store: wakeRule()'s loads of WAIT and
  // CONSUMER_POS must not move before it (pairs with the header load in the
  // consumer and its stores before it sleeps). Both words, as read: a header
  // that reap() discarded meanwhile, or that another record took, stays as it is.
  const seen = (<u64>w1 << 32) | busy;
  if (atomic.cmpxchg<u64>(hdr, seen, (<u64>w1 << 32) | len) != seen) return COMMIT_REVOKED;
  if (discard) {
    atomic.add<u64>(ctl, 1, OFF_DISCARDED);
    atomic.add<u32>(entry(ctl, w1 >>> ID_SHIFT), 1, ENTRY_DISCARDED);
  }
  return wakeRule(ctl, <u64>(hdr - (ctl + DATA_OFFSET)), len, flags);
}

/**
 * The kernel's wakeup rule for the record just committed at ring offset
 * `at` (`len` with its DISCARD bit), after a full barrier that made it
 * visible. Returns 1 when it sent a wakeup.
 */
// @ts-ignore: decorator
@inline function wakeRule(ctl: usize, at: u64, len: u32, flags: u32): u32 {
  // the kernel's order: FORCE wins over NO_WAKEUP when both are set
  if (flags & BPF_RB_FORCE_WAKEUP) return wake(ctl, true);
  if (flags & BPF_RB_NO_WAKEUP) return 0;
  // Only an ARMED consumer can need this wakeup: one that is awake or napping
  // looks at the headers again before it sleeps (it stores WAIT first, then
  // looks). Read WAIT first, and the consumer's line, which it writes as it
  // goes, stays out of a commit while the consumer is busy. Pairs with the
  // consumer's WAIT store before its last look (src/wait.ts).
  if (atomic.load<u32>(ctl, OFF_WAIT) != WAIT_ARMED) return 0;
  const mask = <u64>load<u32>(ctl, OFF_MASK);
  const cons = atomic.load<u64>(ctl, OFF_CONSUMER_POS);
  // the consumer has caught up with this record and may be asleep
  if ((cons & mask) == at) return wake(ctl, false);
  // Overwrite mode: a consumer that fell behind never catches up with a
  // producer that passes it, so it is also woken each half ring.
  if ((load<u32>(ctl, OFF_FLAGS) & FLAG_OVERWRITE) == 0) return 0;
  const half = (mask + 1) >> 1;
  const end = at + stride(len & LEN_MASK);
  return (at < half && end >= half) || end > mask ? wake(ctl, false) : 0;
}

/**
 * Wakes the consumer if it sleeps in poll(), or, with `force`
 * (BPF_RB_FORCE_WAKEUP), also if it naps for its latency budget.
 */
export function wake(ctl: usize, force: bool): u32 {
  // pairs with the consumer's WAIT store before its last look at the headers (src/wait.ts)
  const w = atomic.load<u32>(ctl, OFF_WAIT);
  if (w == WAIT_AWAKE || (w == WAIT_NAPPING && !force)) return 0;
  // Only the consumer sets WAIT other than to AWAKE: if it moved, the
  // consumer is awake, or another producer woke it.
  if (atomic.cmpxchg<u32>(ctl, w, WAIT_AWAKE, OFF_WAIT) != w) return 0;
  atomic.add<u64>(ctl, 1, OFF_WAKEUPS);
  atomic.notify(ctl + OFF_WAIT, -1); // pairs with the wait on WAIT in src/wait.ts
  return 1;
}

/** bpf_ringbuf_query(): the kernel's numbers, exact below 2^53. */
export function query(ctl: usize, key: u32): f64 {
  switch (key) {
    case BPF_RB_AVAIL_DATA: {
      let cons = atomic.load<u64>(ctl, OFF_CONSUMER_POS);
      if ((load<u32>(ctl, OFF_FLAGS) & FLAG_OVERWRITE) == 0) return <f64>(atomic.load<u64>(ctl, OFF_PRODUCER_POS) - cons);
      // overwrite mode, as the kernel: OVERWRITE_POS before PRODUCER_POS, so
      // that the pair is never older than the producer position;
      // min(prod - max(cons, over), size)
      const over = atomic.load<u64>(ctl, OFF_OVERWRITE_POS);
      const prod = atomic.load<u64>(ctl, OFF_PRODUCER_POS);
      if (over > cons) cons = over;
      const avail = prod - cons;
      const size = <u64>load<u32>(ctl, OFF_SIZE);
      return <f64>(avail < size ? avail : size);
    }
    case BPF_RB_OVERWRITE_POS: return <f64>atomic.load<u64>(ctl, OFF_OVERWRITE_POS);
    case BPF_RB_RING_SIZE: return <f64>load<u32>(ctl, OFF_SIZE);
    case BPF_RB_CONS_POS: return <f64>atomic.load<u64>(ctl, OFF_CONSUMER_POS);
    case BPF_RB_PROD_POS: return <f64>atomic.load<u64>(ctl, OFF_PRODUCER_POS);
    default: return -1;
  }
}

/** PRODUCER_POS for the consumer (acquire; pairs with the store in reserveLocked()). */
export function producerPos(ctl: usize): f64 {
  return <f64>atomic.load<u64>(ctl, OFF_PRODUCER_POS);
}

/**
 * The consumer's release of everything before `to`; `drops` is word 1's
 * DROPPED snapshot of the last record it read. Returns 0, changing nothing,
 * when CONSUMER_POS is not `from`: someone else wrote it. Pairs with the
 * CONSUMER_POS loads in reserve() and commit(). Then, with `room`, wakes the
 * producers that wait for room, if any announced it (without: the consumer
 * owes them that look, and takes it by a later call, with from == to if
 * nothing more was read).
 */
export function advanceConsumer(ctl: usize, from: f64, to: f64, drops: u32, room: bool): u32 {
  if (atomic.cmpxchg<u64>(ctl, <u64>from, <u64>to, OFF_CONSUMER_POS) != <u64>from) return 0;
  store<u32>(ctl, drops, OFF_CONSUMER_DROPS);
  // Dekker with a producer about to wait for room: its ROOM_WAITERS add before
  // its second reserve(), our CONSUMER_POS store before this load
  // (announce() in src/room.ts).
  if (room && atomic.load<u32>(ctl, OFF_ROOM_WAITERS) != 0) {
    atomic.add<u32>(ctl, 1, OFF_ROOM_SEQ);
    atomic.notify(ctl + OFF_ROOM_SEQ, -1); // pairs with the wait on ROOM_SEQ
  }
  return 1;
}

/**
 * A producer announces that it waits for room: ROOM_WAITERS (which the
 * consumer reads after each CONSUMER_POS store, advanceConsumer()), then its
 * id's bit, so that reap() can take the announcement back if it dies waiting.
 * One call without a loop: a worker is terminated at a function entry or a
 * loop's back edge, so both happen or neither. Returns ROOM_SEQ, read after
 * the announcement, to wait on.
 */
export function roomAnnounce(ctl: usize, id: u32): u32 {
  atomic.add<u32>(ctl, 1, OFF_ROOM_WAITERS);
  if (id != 0) atomic.or<u32>(roomWord(ctl, id), 1 << (id & 31));
  return atomic.load<u32>(ctl, OFF_ROOM_SEQ);
}

/** The announcement's end: clears the id's bit and, if this call cleared it (not a reap), ROOM_WAITERS. */
export function roomLeave(ctl: usize, id: u32): void {
  if (id == 0 || (atomic.and<u32>(roomWord(ctl, id), ~(<u32>1 << (id & 31))) & (1 << (id & 31))) != 0) {
    atomic.sub<u32>(ctl, 1, OFF_ROOM_WAITERS);
  }
}

// @ts-ignore: decorator
@inline function roomWord(ctl: usize, id: u32): usize {
  return ctl + OFF_ROOM_BITS + (<usize>(id >>> 5) << 2);
}

/**
 * Cleans up after producer `id`, which is gone (its worker exited): releases
 * the producer lock if it died holding it, and discards every record it left
 * BUSY (on a single-producer ring, every BUSY record: there is no one else),
 * so that neither other producers nor the consumer wait on it forever.
 * Runs under the lock as producer `self`. Returns the number of records
 * discarded, with REAP_LOCK_RECOVERED set when the lock was recovered.
 */
export function reap(ctl: usize, id: u32, self: u32, canBlock: bool): u32 {
  let result: u32 = 0;
  const dead = LOCK_HELD | id;
  let v = atomic.load<u32>(ctl, OFF_LOCK);
  while ((v & ~LOCK_CONTENDED) == dead) {
    const seen = atomic.cmpxchg<u32>(ctl, v, 0, OFF_LOCK);
    if (seen == v) {
      result = REAP_LOCK_RECOVERED;
      break;
    }
    v = seen;
  }
  // Whatever it found: the producer may have died between lockRelease()'s
  // xchg and its notify, leaving a sleeper nobody else will wake (found by
  // the model check, docs/model.md). Pairs with the wait32 in lockSlow().
  atomic.notify(ctl + OFF_LOCK, -1);
  const mask = <u64>load<u32>(ctl, OFF_MASK);
  const data = ctl + DATA_OFFSET;
  const anyone = (load<u32>(ctl, OFF_FLAGS) & FLAG_SINGLE) != 0;
  lockAcquire(ctl, LOCK_HELD | self, canBlock);
  // [F3] a new generation first: a producer that goes on running after its
  // reap (a worker its engine did not stop) reserves and commits nothing more
  const gen = ctl + OFF_GENS + (<usize>id << 1);
  atomic.store<u16>(gen, <u16>(atomic.load<u16>(gen) + 1));
  // [G8] A producer that died holding the lock may have died inside a move
  // (overwriteOldest()), after its CONSUMER_POS compare-and-swap and before
  // its OVERWRITE_POS store: the consumer waits at that gap until the move is
  // done, so finish it. Once CONSUMER_POS is at MOVE_TO, the consumer does not
  // move it before OVERWRITE_POS gets there (#moved() in src/walk.ts).
  if (result != 0 && (load<u32>(ctl, OFF_FLAGS) & FLAG_OVERWRITE) != 0) {
    const to = atomic.load<u64>(ctl, OFF_MOVE_TO);
    if (atomic.load<u64>(ctl, OFF_CONSUMER_POS) == to && atomic.load<u64>(ctl, OFF_OVERWRITE_POS) != to) {
      atomic.store<u64>(ctl, load<u64>(ctl, OFF_MOVE_TOTAL), OFF_OVERWRITTEN);
      atomic.store<u64>(ctl, to, OFF_OVERWRITE_POS);
    }
  }
  // Under the lock nothing is reserved, and nothing in [PENDING_POS,
  // PRODUCER_POS) can be consumed and reused, so every header there is whole.
  const prod = load<u64>(ctl, OFF_PRODUCER_POS);
  let pos = load<u64>(ctl, OFF_PENDING_POS);
  let reaped: u32 = 0;
  while (pos < prod) {
    const hdr = data + <usize>(pos & mask);
    const len = atomic.load<u32>(hdr); // pairs with the xchg in commit()
    if ((len & BUSY_BIT) != 0 && (anyone || load<u32>(hdr, 4) >>> ID_SHIFT == id)) {
      atomic.xchg<u32>(hdr, (len & ~BUSY_BIT) | DISCARD_BIT); // as commit(discard) would
      reaped++;
    }
    pos += stride(len & LEN_MASK);
  }
  lockRelease(ctl);
  // [G7] a producer killed while it waited for room: take its announcement back
  roomLeave(ctl, id);
  if (reaped) {
    atomic.add<u64>(ctl, <u64>reaped, OFF_REAPED);
    atomic.add<u32>(entry(ctl, id), reaped, ENTRY_DISCARDED);
  }
  // It may have died between its commit and the wakeup, or inside wake(),
  // between the WAIT cmpxchg and the notify: notify whatever wake() finds
  // (a consumer woken for nothing looks and sleeps again).
  wake(ctl, false);
  atomic.notify(ctl + OFF_WAIT, -1); // pairs with the wait on WAIT in src/wait.ts
  return result | reaped;
}

/** Producer `id`'s DROPPED (which 0) or DISCARDED (which 1) count, wrapping at 2^32. */
export function producerCounter(ctl: usize, id: u32, which: u32): u32 {
  assert(id <= MAX_PRODUCER_ID);
  return atomic.load<u32>(entry(ctl, id) + <usize>(which == 0 ? ENTRY_DROPPED : ENTRY_DISCARDED));
}

/** Counts a reservation refused above the ring (a per-producer buffer's stamp bound). */
export function countRefusal(ctl: usize, id: u32): void {
  refuse(ctl, id, false);
}

/** The u64 counter at `offset` in the control block (OFF_DROPPED, OFF_WAKEUPS, ...), for stats(). */
export function counter(ctl: usize, offset: u32): f64 {
  assert((offset & 7) == 0 && offset < DATA_OFFSET);
  return <f64>atomic.load<u64>(ctl + <usize>offset);
}
