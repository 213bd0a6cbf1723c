// The producer lock. The kernel takes a raw spinlock with interrupts off, so
// its holder is never descheduled; a worker holding a lock here can be. The
// lock therefore spins a bounded number of times and then sleeps on the lock
// word (the futex mutex of Drepper's "Futexes Are Tricky", with the owner's
// id kept in the word so that a dead owner can be identified and its lock
// recovered). docs/protocol.md has the measurements behind this choice and the
// lock-free alternative in reserveClaim() (ring.ts).

import { OFF_LOCK, OFF_LOCK_WAITS, LOCK_CONTENDED, LOCK_SPINS } from "./layout";

/**
 * Takes the producer lock for `owner` (LOCK_HELD | producer id). A thread that
 * may not block (a browser main thread) keeps spinning instead of sleeping.
 */
// @ts-ignore: decorator
@inline export function lockAcquire(ctl: usize, owner: u32, canBlock: bool): void {
  // pairs with the xchg in lockRelease()
  if (atomic.cmpxchg<u32>(ctl, 0, owner, OFF_LOCK) != 0) lockSlow(ctl, owner, canBlock);
}

function lockSlow(ctl: usize, owner: u32, canBlock: bool): void {
  for (let i = 0; i < LOCK_SPINS; i++) {
    if (atomic.load<u32>(ctl, OFF_LOCK) == 0 && atomic.cmpxchg<u32>(ctl, 0, owner, OFF_LOCK) == 0) return;
  }
  atomic.add<u64>(ctl, 1, OFF_LOCK_WAITS);
  // From here on, take the lock as contended: another producer may be asleep.
  while (true) {
    let v = atomic.load<u32>(ctl, OFF_LOCK);
    if (v == 0) {
      if (atomic.cmpxchg<u32>(ctl, 0, owner | LOCK_CONTENDED, OFF_LOCK) == 0) return;
      continue;
    }
    if ((v & LOCK_CONTENDED) == 0) {
      if (atomic.cmpxchg<u32>(ctl, v, v | LOCK_CONTENDED, OFF_LOCK) != v) continue;
      v |= LOCK_CONTENDED;
    }
    // pairs with the notify in lockRelease(); returns at once if the word moved
    if (canBlock) memory.atomic.wait32(ctl + OFF_LOCK, <i32>v, -1);
  }
}

/** Releases the producer lock, waking one sleeper if any. */
// @ts-ignore: decorator
@inline export function lockRelease(ctl: usize): void {
  // full barrier: the header and PRODUCER_POS stores above are visible before the lock is free
  if (atomic.xchg<u32>(ctl, 0, OFF_LOCK) & LOCK_CONTENDED) {
    atomic.notify(ctl + OFF_LOCK, 1); // pairs with the wait32 in lockSlow()
  }
}
