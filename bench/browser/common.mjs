// What the page (bench.mjs) and its producer worker (producer.mjs) share:
// the control block's layout, the record's layout, the sides measured. The
// definitions are the Node bench's (bench/harness.ts, bench/headline.ts):
// 64 B records, word 0 the producer's index and word 1 its sequence number,
// then a fixed pattern; a stream ends with one END record committed with
// BPF_RB_FORCE_WAKEUP; a producer that finds no room sleeps 50 µs and tries
// again, counting a drop; every side gets 1 MiB of buffering.

/** Bytes per record. */
export const RECORD_SIZE = 64;
/** Bytes of buffering each side gets (the ring's size). */
export const RING_BYTES = 1 << 20;
/** Records a run may send in all; it usually stops on time first. */
export const MAX_RECORDS = 4_000_000;
/** Sequence number of the record that ends a producer's stream. */
export const END = 0xffffffff;
/** How long a producer that found no room sleeps before it tries again. */
export const BACKOFF_MS = 0.05;
/** How long a draining consumer sleeps when it finds nothing. */
export const DRAIN_SLEEP_MS = 1;
/** Records per message of batched postMessage. */
export const BATCH = 64;

// The control block: Int32 words over a SharedArrayBuffer.
export const READY = 0; // the producer waits at the barrier
export const GO = 1; // 1: start producing
export const STOP = 2; // 1: the time limit has passed; send the END record now
export const NAP = 3; // never written: a producer backs off by sleeping on it
export const WRITTEN = 4; // records the producer wrote (END not counted)
export const DROPS = 5; // times it found no room
export const ACK = 6; // records the consumer has taken (batched postMessage's window)
export const CONTROL_WORDS = 16;

/** The stride a record of `recordSize` bytes takes in the BPF ring: 8-byte header, rounded to 8. */
export const ringStride = (recordSize) => (recordSize + 15) & ~7;

/** Records a producer may have in flight where nothing else bounds them: as many as the ring holds. */
export const WINDOW = Math.floor(RING_BYTES / ringStride(RECORD_SIZE));

/**
 * The sides a ratio is made of. `contender` picks the producer's writer and
 * the consumer's loop; `wakeup` the commit flags (adaptive: 0, the README's
 * default path).
 */
export const SIDES = {
  ring: {
    contender: 'wasm-ringbuf',
    wakeup: 'adaptive',
    about: 'reserve() → data.set() → submit(0); await consumer.poll()',
  },
  batched: {
    contender: 'postMessage ×64',
    wakeup: 'adaptive',
    about: '64 records packed in an ArrayBuffer, transferred; a message event per batch',
  },
  ringbufjs: { contender: 'ringbuf.js', wakeup: 'NO_WAKEUP', about: 'push(); pop(), sleep 1 ms when empty' },
  ringNoWakeup: {
    contender: 'wasm-ringbuf',
    wakeup: 'NO_WAKEUP',
    about: 'reserve() → data.set() → submit(BPF_RB_NO_WAKEUP); consume(), sleep 1 ms when empty',
  },
};

/** The ratios, numerator first, named as bench/headline.ts names them. */
export const PAIRS = [
  {
    name: 'wasm-ringbuf ÷ postMessage ×64',
    detail: '64 records per transferred message',
    a: 'ring',
    b: 'batched',
  },
  {
    name: 'wasm-ringbuf ÷ ringbuf.js',
    detail: 'no wakeup: its consumer drains, sleeping 1 ms when empty',
    a: 'ring',
    b: 'ringbufjs',
  },
  {
    name: 'adaptive ÷ NO_WAKEUP',
    detail: 'wasm-ringbuf; NO_WAKEUP: the consumer drains, sleeping 1 ms when empty',
    a: 'ring',
    b: 'ringNoWakeup',
  },
];
