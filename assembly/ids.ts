// Producer ids: 1..MAX_PRODUCER_ID, handed out from a bitmap so that an id
// comes back when its producer closes or is reaped. Bit 0 (the anonymous id)
// and LOSS_ID are never handed out: init() sets them.

import { OFF_IDS, ID_WORDS, MAX_PRODUCER_ID, LOSS_ID, OFF_PRODUCERS, PRODUCER_ENTRY, OFF_GENS } from "./layout";

// @ts-ignore: decorator
@inline export function reserveSpecialIds(ctl: usize): void {
  store<u32>(ctl + OFF_IDS, 1); // id 0
  store<u32>(ctl + OFF_IDS + ((LOSS_ID >> 5) << 2), 1 << (LOSS_ID & 31));
}

/**
 * A free producer id, now in use, its counters zeroed, with its generation:
 * `id | gen << 16` (the `who` of reserve() and commit()); id 0 when all are
 * in use.
 */
export function acquireId(ctl: usize): u32 {
  for (let w: u32 = 0; w < ID_WORDS; w++) {
    const at = ctl + OFF_IDS + (w << 2);
    let bits = atomic.load<u32>(at);
    while (bits != 0xffffffff) {
      const bit = ctz<u32>(~bits);
      const seen = atomic.cmpxchg<u32>(at, bits, bits | (1 << bit));
      if (seen == bits) {
        const id = (w << 5) | bit;
        assert(id != 0 && id <= MAX_PRODUCER_ID); // bits 0 and LOSS_ID are never free
        atomic.store<u64>(ctl + OFF_PRODUCERS + <usize>(id * PRODUCER_ENTRY), 0);
        return id | (<u32>atomic.load<u16>(ctl + OFF_GENS + (<usize>id << 1)) << 16);
      }
      bits = seen;
    }
  }
  return 0;
}

/** Gives `id` back (its producer closed, or was reaped). */
export function releaseId(ctl: usize, id: u32): void {
  if (id == 0 || id > MAX_PRODUCER_ID) return;
  atomic.and<u32>(ctl + OFF_IDS + ((id >> 5) << 2), ~(1 << (id & 31)));
}
