// The producer, a module Web Worker kept between runs (one per contender, so
// that its loop's calls stay monomorphic). Each run it is sent an init:
// builds the contender's writer, says 'ready', waits at the barrier, writes
// its records as fast as it can (checking STOP every 256 records; no room:
// a drop, sleep 50 µs, try again), ends with the END record, and says
// 'done' once its counts are in the control block.
import { BPF_RB_FORCE_WAKEUP, BPF_RB_NO_WAKEUP, RingBuffer } from '/dist/wasm-ringbuf.bundle.js';
import { RingBuffer as SpscRing } from '/node_modules/ringbuf.js/dist/index.mjs';
import { ACK, BACKOFF_MS, BATCH, DROPS, END, GO, NAP, READY, STOP, WINDOW, WRITTEN } from './common.mjs';

/** The writer of `init.contender`: `write(record, flags)` is false when there is no room now. */
async function writerOf(init) {
  if (init.contender === 'wasm-ringbuf') {
    const rb = await RingBuffer.attach(init.shared);
    return {
      write(record, flags) {
        const r = rb.reserve(record.length);
        if (r === null) return false;
        r.data.set(record);
        r.submit(flags);
        return true;
      },
      close: () => rb.close(),
    };
  }
  if (init.contender === 'postMessage ×64') {
    const control = new Int32Array(init.control);
    const size = init.recordSize;
    let pack = new Uint8Array(BATCH * size);
    let fill = 0;
    let sent = 0;
    const flush = () => {
      if (fill === 0) return;
      // on the worker's own channel: Firefox delivers what a worker posts on a transferred MessagePort
      // only once the worker returns to its event loop, which a producer in its loop never does
      self.postMessage(pack.subarray(0, fill * size), [pack.buffer]);
      sent += fill;
      pack = new Uint8Array(BATCH * size);
      fill = 0;
    };
    return {
      write(record) {
        if (sent + fill - Atomics.load(control, ACK) >= WINDOW) return false;
        pack.set(record, fill * size);
        if (++fill === BATCH) flush();
        return true;
      },
      flush,
    };
  }
  if (init.contender === 'ringbuf.js') {
    const ring = new SpscRing(init.shared, Uint8Array);
    return {
      // whole records only: refused when a whole record does not fit
      write: (record) => ring.availableWrite() >= record.length && ring.push(record) === record.length,
    };
  }
  throw new Error(`unknown contender ${JSON.stringify(init.contender)}`);
}

function produce(init, writer) {
  const ctl = new Int32Array(init.control);
  const record = new Uint8Array(init.recordSize);
  for (let i = 8; i < record.length; i++) record[i] = (i * 31 + 7) & 0xff;
  const words = new Uint32Array(record.buffer, 0, 2);
  words[0] = init.index;
  const flags = init.wakeup === 'NO_WAKEUP' ? BPF_RB_NO_WAKEUP : 0;
  let drops = 0;
  const send = (seq, f) => {
    words[1] = seq;
    while (!writer.write(record, f)) {
      drops++;
      Atomics.wait(ctl, NAP, 0, BACKOFF_MS);
    }
  };
  Atomics.add(ctl, READY, 1);
  self.postMessage({ ready: true });
  Atomics.wait(ctl, GO, 0); // pairs with the GO store in bench.mjs release()
  let seq = 0;
  for (; seq < init.quota; seq++) {
    if ((seq & 255) === 0 && Atomics.load(ctl, STOP) !== 0) break;
    send(seq, flags);
  }
  send(END, BPF_RB_FORCE_WAKEUP);
  writer.flush?.();
  Atomics.store(ctl, WRITTEN, seq);
  Atomics.store(ctl, DROPS, drops);
}

self.onmessage = async ({ data: init }) => {
  let writer;
  try {
    writer = await writerOf(init);
    produce(init, writer);
    self.postMessage({ done: true });
  } catch (err) {
    self.postMessage({ error: `producer: ${err?.stack ?? err}` });
  } finally {
    writer?.close?.();
  }
};
