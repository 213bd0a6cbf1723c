/**
 * Commit flags and query keys with the kernel's values
 * (include/uapi/linux/bpf.h), defined once in assembly/layout.ts.
 */
import type {
  BPF_RB_AVAIL_DATA,
  BPF_RB_CONS_POS,
  BPF_RB_FORCE_WAKEUP,
  BPF_RB_NO_WAKEUP,
  BPF_RB_OVERWRITE_POS,
  BPF_RB_PROD_POS,
  BPF_RB_RING_SIZE,
} from './generated/layout.js';

export {
  BPF_RB_NO_WAKEUP,
  BPF_RB_FORCE_WAKEUP,
  BPF_RB_AVAIL_DATA,
  BPF_RB_RING_SIZE,
  BPF_RB_CONS_POS,
  BPF_RB_PROD_POS,
  BPF_RB_OVERWRITE_POS,
} from './generated/layout.js';

/** Commit flags: 0 for the kernel's adaptive wakeup, or NO_WAKEUP, FORCE_WAKEUP (both: FORCE wins). */
export type CommitFlags = 0 | typeof BPF_RB_NO_WAKEUP | typeof BPF_RB_FORCE_WAKEUP | 3;
/** Keys accepted by `RingBuffer.query()`. */
export type QueryKey =
  | typeof BPF_RB_AVAIL_DATA
  | typeof BPF_RB_RING_SIZE
  | typeof BPF_RB_CONS_POS
  | typeof BPF_RB_PROD_POS
  | typeof BPF_RB_OVERWRITE_POS;
