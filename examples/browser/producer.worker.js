// A producer: a module Web Worker that attaches to the ring from its handle
// and writes events, into the ring (reserve in place, commit), as one
// postMessage each, or as one postMessage of POST_BATCH events packed in a
// transferred ArrayBuffer, whichever lane the page has chosen. It runs a blocking
// loop (a worker may block; the page's main thread may not) and is steered
// through the shared control words of control.js.
import { RingBuffer, BPF_RB_FORCE_WAKEUP, BPF_RB_NO_WAKEUP } from 'wasm-ringbuf';
import {
  ACK,
  EVENT_BYTES,
  MODE,
  MODE_BATCH,
  MODE_PAUSED,
  MODE_POST,
  MODE_RING,
  PAYLOAD,
  POSTED,
  POST_BATCH,
  POST_WINDOW,
  RATE,
  REFUSED,
  SAMPLE_EVERY,
  WAKEUP,
  WAKEUP_ADAPTIVE,
  WAKEUP_SAMPLED,
  WRITTEN,
} from './control.js';

const BATCH = 64; // events between looks at the control words

self.onmessage = async ({ data }) => {
  const { handle, control, index } = data;
  const rb = await RingBuffer.attach(handle); // instantiates the ring's wasm over the shared memory
  self.postMessage({ type: 'ready', index, producerId: rb.producerId });
  run(rb, new Int32Array(control), index);
};

/** @param {RingBuffer} rb @param {Int32Array} ctl @param {number} index */
function run(rb, ctl, index) {
  const view = new DataView(rb.memory.buffer);
  const nap = new Int32Array(new SharedArrayBuffer(4)); // a private word to sleep on
  let ringSeq = 0;
  let postSeq = 0;
  let batchSeq = 0;
  // the value each event carries: a slow wave of the producer's own, so the page can draw it
  const period = 7000 + 2300 * index;
  const wave = (t) => Math.sin((2 * Math.PI * t) / period + index) + 0.3 * Math.sin((2 * Math.PI * t) / (period / 4.7));
  let written = 0;
  let refused = 0;
  let posted = 0;
  let due = performance.now(); // when the next batch is due, in paced mode
  for (;;) {
    const mode = Atomics.load(ctl, MODE);
    if (mode === MODE_PAUSED) {
      Atomics.wait(ctl, MODE, MODE_PAUSED); // the page stores a new mode and notifies
      due = performance.now();
      continue;
    }
    const rate = Atomics.load(ctl, RATE);
    if (rate > 0) {
      // paced: a batch every BATCH/rate seconds; sleep until it is due
      const wait = due - performance.now();
      if (wait > 0) Atomics.wait(nap, 0, 0, wait);
      due = Math.max(due, performance.now() - 50) + (BATCH * 1000) / rate;
    }
    const t = performance.timeOrigin + performance.now();
    const value = wave(t);
    if (mode === MODE_RING) {
      const len = Atomics.load(ctl, PAYLOAD);
      const policy = Atomics.load(ctl, WAKEUP);
      for (let i = 0; i < BATCH; i++) {
        const off = rb.reserveRaw(len); // bpf_ringbuf_reserve(): 0 when the ring is full
        if (off === 0) {
          // full: the event is refused (counted by the ring, reported to the consumer as `lost`);
          // back off so the consumer gets the core instead of a spinning producer
          ringSeq++;
          refused++;
          Atomics.wait(nap, 0, 0, 0.05);
          continue;
        }
        view.setUint32(off, index, true);
        view.setUint32(off + 4, ringSeq, true);
        view.setFloat64(off + 8, t, true);
        view.setFloat64(off + 16, value, true);
        const flags =
          policy === WAKEUP_ADAPTIVE
            ? 0
            : policy === WAKEUP_SAMPLED && ringSeq % SAMPLE_EVERY === 0
              ? BPF_RB_FORCE_WAKEUP
              : BPF_RB_NO_WAKEUP;
        rb.submitRaw(off, flags); // bpf_ringbuf_submit()
        ringSeq++;
        written++;
      }
      Atomics.store(ctl, WRITTEN + index, written);
      Atomics.store(ctl, REFUSED + index, refused);
    } else if (mode === MODE_POST) {
      for (let i = 0; i < BATCH; i++) {
        // credit: at most POST_WINDOW events in flight, or the page's queue grows without bound
        const acked = Atomics.load(ctl, ACK + index);
        if (posted - acked >= POST_WINDOW) {
          // the page notifies as it receives; the timeout lets a change of mode through
          Atomics.wait(ctl, ACK + index, acked, 5);
          break;
        }
        self.postMessage({ p: index, seq: postSeq, t, v: value });
        postSeq++;
        posted++;
      }
      Atomics.store(ctl, POSTED + index, posted);
    } else if (mode === MODE_BATCH) {
      // the same credit window, counted in events; one message carries POST_BATCH of them
      const acked = Atomics.load(ctl, ACK + index);
      if (posted - acked + POST_BATCH > POST_WINDOW) {
        Atomics.wait(ctl, ACK + index, acked, 5);
        continue;
      }
      const events = new ArrayBuffer(POST_BATCH * EVENT_BYTES);
      const out = new DataView(events);
      for (let i = 0, at = 0; i < POST_BATCH; i++, at += EVENT_BYTES) {
        out.setUint32(at, index, true);
        out.setUint32(at + 4, batchSeq++, true);
        out.setFloat64(at + 8, t, true);
        out.setFloat64(at + 16, value, true);
      }
      self.postMessage({ p: index, events }, [events]); // transferred: no copy, one task for POST_BATCH events
      posted += POST_BATCH;
      Atomics.store(ctl, POSTED + index, posted);
    }
  }
}
