/**
 * Commit flags and query keys with the kernel's values
 * (include/uapi/linux/bpf.h).
 */

/** Commit flag: do not wake the consumer for this record (kernel `BPF_RB_NO_WAKEUP`). */
export const BPF_RB_NO_WAKEUP = 1;
/** Commit flag: wake the consumer whatever its position (kernel `BPF_RB_FORCE_WAKEUP`). */
export const BPF_RB_FORCE_WAKEUP = 2;

/** Query key: bytes not yet consumed, `producer_pos - consumer_pos` (kernel `BPF_RB_AVAIL_DATA`). */
export const BPF_RB_AVAIL_DATA = 0;
/** Query key: size of the data area in bytes (kernel `BPF_RB_RING_SIZE`). */
export const BPF_RB_RING_SIZE = 1;
/** Query key: the consumer position, a byte counter that only grows (kernel `BPF_RB_CONS_POS`). */
export const BPF_RB_CONS_POS = 2;
/** Query key: the producer position, a byte counter that only grows (kernel `BPF_RB_PROD_POS`). */
export const BPF_RB_PROD_POS = 3;

/**
 * Query key: in overwrite mode, the position before which records were
 * overwritten (kernel `BPF_RB_OVERWRITE_POS`, from its `BPF_F_RB_OVERWRITE` maps).
 */
export const BPF_RB_OVERWRITE_POS = 4;

/** Commit flags: one of these, or 0 for the kernel's adaptive wakeup. */
export type CommitFlags = 0 | typeof BPF_RB_NO_WAKEUP | typeof BPF_RB_FORCE_WAKEUP;
/** Keys accepted by `RingBuffer.query()`. */
export type QueryKey =
  | typeof BPF_RB_AVAIL_DATA
  | typeof BPF_RB_RING_SIZE
  | typeof BPF_RB_CONS_POS
  | typeof BPF_RB_PROD_POS
  | typeof BPF_RB_OVERWRITE_POS;
