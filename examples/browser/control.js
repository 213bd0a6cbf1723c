// The words the demo page and its producer workers share (an Int32Array over
// one SharedArrayBuffer). The page writes the settings; each worker reads them
// between batches and publishes its own counters. A worker's loop never
// returns to its event loop, so this memory is the only way to steer it.

/** Which lane the producers feed: nothing, the ring, one postMessage per event, or one per POST_BATCH events. */
export const MODE = 0;
export const MODE_PAUSED = 0;
export const MODE_RING = 1;
export const MODE_POST = 2;
export const MODE_BATCH = 3;

/** Events per message in the batched postMessage lane (one transferred ArrayBuffer each). */
export const POST_BATCH = 64;

/** Commit flags policy of the ring lane. */
export const WAKEUP = 1;
export const WAKEUP_ADAPTIVE = 0; // flags 0: wake the consumer only when it has caught up
export const WAKEUP_SAMPLED = 1; // BPF_RB_FORCE_WAKEUP every SAMPLE_EVERY records, NO_WAKEUP otherwise
export const WAKEUP_NONE = 2; // BPF_RB_NO_WAKEUP always: the consumer wakes on its poll timeout
export const SAMPLE_EVERY = 64;

/** Payload bytes per event (at least EVENT_BYTES). */
export const PAYLOAD = 2;
/** Events per second per producer; 0 = as fast as it can. */
export const RATE = 3;

/** Per producer i: events the page has received by postMessage, either lane (its flow-control credit). */
export const ACK = 8;
/** Per producer i: ring events written, ring events refused (the ring was full), events posted (either lane). */
export const WRITTEN = 16;
export const REFUSED = 24;
export const POSTED = 32;

export const MAX_PRODUCERS = 8;
export const CONTROL_WORDS = 40;

/** Events a producer may post before the page has received them: postMessage has no back pressure of its own. */
export const POST_WINDOW = 4096;

/**
 * An event, in the ring and in a batched message (24 bytes each), and in a postMessage (as an object there):
 *   u32 producer index, u32 sequence (per lane), f64 time (ms since the epoch), f64 value.
 */
export const EVENT_BYTES = 24;

/** Producer colours, shared by the chart and the counters. */
export const PRODUCER_COLOURS = [
  '#a78bfa',
  '#f472b6',
  '#38bdf8',
  '#a3e635',
  '#fb923c',
  '#facc15',
  '#34d399',
  '#f87171',
];
