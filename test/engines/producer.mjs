// A producer of the engine suite, run in a worker: it attaches to the ring
// from the handle it was given and does its job, then reports what it did (or
// the error that stopped it, with its name and code).
import { createWritableStream, RingBuffer, writeJSON } from 'wasm-ringbuf';
import { fillRecord, recordLength, textRecord } from './records.mjs';
import { report, workerInput } from './workers.mjs';

const input = workerInput();

const jobs = {
  /** The README's path: reserve(), fill the view, submit(); a full ring drops the record. */
  reserve(rb, { tag, count }) {
    let dropped = 0;
    for (let seq = 0; seq < count; seq++) {
      const r = rb.reserve(recordLength(tag, seq));
      if (r === null) {
        dropped++;
        continue;
      }
      fillRecord(r.data, tag, seq);
      r.submit();
    }
    return { dropped };
  },

  /**
   * Goes on running after its reap, as a Deno worker does after its exit: says
   * it started, writes records (by reserve(), the raw offsets and output(), in
   * turn) until a call throws, then tries `after` more; reports the last
   * sequence it submitted and what each later call did.
   */
  zombie(rb, { tag, after }) {
    report({ ok: true, started: true, producerId: rb.producerId });
    const pause = new Int32Array(new SharedArrayBuffer(4));
    const write = (seq) => {
      const len = recordLength(tag, seq);
      if (seq % 3 === 0) {
        const r = rb.reserve(len);
        if (r === null) return false;
        fillRecord(r.data, tag, seq);
        r.submit();
        return true;
      }
      if (seq % 3 === 1) {
        const off = rb.reserveRaw(len);
        if (off === 0) return false;
        fillRecord(rb.bytes.subarray(off, off + len), tag, seq);
        rb.submitRaw(off);
        return true;
      }
      return rb.output(record(tag, seq));
    };
    let seq = 0;
    let stopped;
    for (;;) {
      try {
        if (write(seq)) seq++;
        else Atomics.wait(pause, 0, 0, 0.05); // no room: back off
      } catch (err) {
        stopped = err;
        break;
      }
    }
    const codes = [];
    for (let i = 0; i < after; i++) {
      try {
        codes.push(write(seq + i) ? 'wrote' : 'no room');
      } catch (err) {
        codes.push(err.code ?? err.name);
      }
    }
    return { last: seq - 1, stoppedBy: stopped.code ?? `${stopped.name}: ${stopped.message}`, codes };
  },

  /** Waits for room in Atomics.wait: every record is written unless a wait times out. */
  blocking(rb, { tag, count, timeoutMs }) {
    for (let seq = 0; seq < count; seq++) {
      const r = rb.reserveBlocking(recordLength(tag, seq), timeoutMs);
      if (r === null) throw new Error(`reserveBlocking() found no room for record ${seq} in ${timeoutMs} ms`);
      fillRecord(r.data, tag, seq);
      r.submit();
    }
    return {};
  },

  /** Waits for room in Atomics.waitAsync (or the library's stand-in for it). */
  async async(rb, { tag, count, timeoutMs }) {
    for (let seq = 0; seq < count; seq++) {
      const r = await rb.reserveAsync(recordLength(tag, seq), { timeoutMs });
      if (r === null) throw new Error(`reserveAsync() found no room for record ${seq} in ${timeoutMs} ms`);
      fillRecord(r.data, tag, seq);
      r.submit();
    }
    return {};
  },

  /** Writes its records, closes, and says what a reserve() after close() did. */
  close(rb, { tag, count }) {
    for (let seq = 0; seq < count; seq++) {
      if (!rb.output(record(tag, seq))) throw new Error(`no room for record ${seq}`);
    }
    rb.close();
    try {
      rb.reserve(8);
      return { afterClose: null };
    } catch (err) {
      return { afterClose: { name: err.name, code: err.code } };
    }
  },

  /** JSON records, waiting for room as long as `timeoutMs`. */
  json(rb, { tag, count, timeoutMs }) {
    for (let seq = 0; seq < count; seq++) {
      if (!writeJSON(rb, { tag, seq, text: 'é'.repeat(seq % 7) }, 0, timeoutMs)) {
        throw new Error(`writeJSON() found no room for record ${seq} in ${timeoutMs} ms`);
      }
    }
    return {};
  },

  /** Text records through a WritableStream, whose backpressure is the ring's room. */
  async writable(rb, { tag, count }) {
    const writer = createWritableStream(rb).getWriter();
    for (let seq = 0; seq < count; seq++) {
      await writer.ready;
      writer.write(textRecord(tag, seq));
    }
    await writer.close();
    return {};
  },
};

function record(tag, seq) {
  const bytes = new Uint8Array(recordLength(tag, seq));
  fillRecord(bytes, tag, seq);
  return bytes;
}

const data = await input;
try {
  const rb = await RingBuffer.attach(data.handle);
  const producerId = rb.producerId;
  const result = await jobs[data.job](rb, data);
  report({ ok: true, producerId, ...result });
} catch (err) {
  report({
    ok: false,
    error: { name: err?.name, code: err?.code, message: err?.message ?? String(err), stack: err?.stack },
  });
}
