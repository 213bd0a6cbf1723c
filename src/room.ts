// Producers that wait for room: the twin of libbpf's
// user_ring_buffer__reserve_blocking(). A producer that finds the ring full
// announces that it waits (ROOM_WAITERS, and its id's bit in ROOM_BITS, so
// that reapProducer() can take it back if the producer is killed while it
// waits: roomAnnounce() in assembly/ring.ts), looks once more, and sleeps on
// ROOM_SEQ; the consumer, after a store of CONSUMER_POS (each one that ends a
// pass, and within a pass each quarter ring: RingWalk.publish() in
// src/walk.ts), bumps ROOM_SEQ and notifies only if someone announced
// (advanceConsumer() in assembly/ring.ts). Nobody spins, and a ring with room
// pays one load per pass for it.

import { cannotBlockError, checkOptions, checkSignal, checkTimeout } from './errors.js';
import { waitOn } from './wait-async.js';
import type { WaitForRoomOptions } from './ring-options.js';
import { canBlock, type RingCore } from './wasm.js';

/** What a producer waiting for room goes through: its ring's core, its id, and its reservation. */
export interface RoomProducer {
  readonly core: RingCore;
  readonly producerId: number;
  /** A reservation of a checked `len` (0: no room); `quiet`: a refusal is not counted. */
  reserveChecked(len: number, quiet?: boolean): number;
}

/** The blocking wait (Atomics.wait): a reservation's offset, or 0 on timeout (counted). `len` is checked. */
export function waitForRoom(ring: RoomProducer, len: number, timeoutMs: number): number {
  checkTimeout(timeoutMs);
  if (!canBlock && timeoutMs !== 0) throw cannotBlockError('reserveBlocking()', 'await reserveAsync()');
  let deadline = NaN;
  for (;;) {
    const offset = ring.reserveChecked(len, true);
    if (offset !== 0) return offset;
    deadline = Number.isNaN(deadline) ? deadlineAfter(timeoutMs) : deadline;
    const turn = announce(ring, len, deadline);
    if (turn >= 0) return turn;
    // pairs with the ROOM_SEQ add and notify in advanceConsumer() (assembly/ring.ts)
    const { i32, index } = ring.core.roomWord;
    Atomics.wait(i32, index, -turn - 1, deadline - performance.now());
    ring.core.roomLeave(ring.producerId); // [Q5]
  }
}

/** The wait that does not block the thread (Atomics.waitAsync), with a timeout and a signal. `len` is checked. */
export async function waitForRoomAsync(ring: RoomProducer, len: number, options: WaitForRoomOptions): Promise<number> {
  checkOptions(options, 'reserveAsync()', '{ timeoutMs: 100 }');
  const { timeoutMs = -1, signal } = options;
  checkTimeout(timeoutMs);
  checkSignal(signal);
  signal?.throwIfAborted();
  let deadline = NaN;
  for (;;) {
    const offset = ring.reserveChecked(len, true);
    if (offset !== 0) return offset;
    deadline = Number.isNaN(deadline) ? deadlineAfter(timeoutMs) : deadline;
    const turn = announce(ring, len, deadline);
    if (turn >= 0) return turn;
    try {
      await waitOn([ring.core.roomWord], -turn - 1, deadline - performance.now(), undefined, signal);
    } finally {
      ring.core.roomLeave(ring.producerId); // [Q5]
    }
    signal?.throwIfAborted();
  }
}

/** When a wait for room that found none gives up: read then, so that room at the first try reads no clock. */
function deadlineAfter(timeoutMs: number): number {
  return timeoutMs < 0 ? Infinity : performance.now() + timeoutMs;
}

/**
 * The rest of one turn of waiting, after a reservation found no room: past
 * the deadline, a last reservation that counts its refusal (its offset, or
 * 0); otherwise the announcement that this producer waits, as
 * -(ROOM_SEQ + 1) to wait on (the caller then takes itself off ROOM_WAITERS
 * after the wait), or a reservation (its offset) if the look after the
 * announcement found room. Announce, then look again: the consumer either
 * sees ROOM_WAITERS and bumps ROOM_SEQ, or its CONSUMER_POS store is seen by
 * the second reservation (Dekker).
 */
function announce(ring: RoomProducer, len: number, deadline: number): number {
  if (performance.now() >= deadline) return ring.reserveChecked(len);
  const seq = ring.core.roomAnnounce(ring.producerId); // [Q1] [Q2]
  // a consumer napping or asleep frees nothing: wake it, as BPF_RB_FORCE_WAKEUP would
  ring.core.wake(1);
  let offset: number;
  try {
    offset = ring.reserveChecked(len, true);
  } catch (err) {
    ring.core.roomLeave(ring.producerId); // reaped meanwhile (ERR_RINGBUF_REAPED): take the announcement back
    throw err;
  }
  if (offset !== 0) {
    ring.core.roomLeave(ring.producerId);
    return offset;
  }
  ring.core.countRoomWait();
  return -seq - 1;
}
