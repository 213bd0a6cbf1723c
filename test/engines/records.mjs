// The records the engine suite's producers write and its consumers check: each
// carries its producer's tag and sequence number, and a length and payload
// that follow from both, so any lost, repeated, reordered or damaged record
// is seen.

/** The payload length of record `seq` of producer `tag`: 8 to 36 bytes. */
export function recordLength(tag, seq) {
  return 8 + ((seq * 7 + tag * 3) % 29);
}

function payloadByte(tag, seq, i) {
  return (tag * 131 + seq * 31 + i * 7) & 255;
}

/** Writes record `seq` of producer `tag` into `data` (exactly `recordLength(tag, seq)` bytes). */
export function fillRecord(data, tag, seq) {
  data[0] = tag & 255;
  data[1] = (tag >>> 8) & 255;
  data[2] = 0;
  data[3] = 0;
  data[4] = seq & 255;
  data[5] = (seq >>> 8) & 255;
  data[6] = (seq >>> 16) & 255;
  data[7] = (seq >>> 24) & 255;
  for (let i = 8; i < data.length; i++) data[i] = payloadByte(tag, seq, i);
}

/**
 * Checks the records of the producers `tags`, `count` each, as a consumer
 * callback: `check.record(data, lost)`. The first faults are kept (a few, so
 * a broken run does not fill the log); `check.finish()` throws unless every
 * producer's records came, each once, in order and intact, with none lost.
 */
export function recordChecker(tags, count) {
  const next = new Map(tags.map((t) => [t, 0]));
  const faults = [];
  let received = 0;
  let lost = 0;
  const fault = (text) => {
    if (faults.length < 5) faults.push(text);
  };
  return {
    get received() {
      return received;
    },
    /** What was wrong so far, in records that came (finish() also checks that all came). */
    get faults() {
      return faults;
    },
    record(data, lostBefore = 0) {
      received++;
      lost += lostBefore;
      if (data.length < 8) return fault(`record ${received} has ${data.length} bytes, fewer than its 8-byte header`);
      const tag = data[0] | (data[1] << 8) | (data[2] << 16) | (data[3] << 24);
      const seq = (data[4] | (data[5] << 8) | (data[6] << 16) | (data[7] << 24)) >>> 0;
      const expected = next.get(tag);
      if (expected === undefined) return fault(`record ${received} names producer ${tag}, which is not one of ${tags}`);
      if (seq !== expected) fault(`producer ${tag}: record ${seq} came where ${expected} was due`);
      next.set(tag, seq + 1);
      const len = recordLength(tag, seq);
      if (data.length !== len) return fault(`producer ${tag} record ${seq}: ${data.length} bytes, expected ${len}`);
      for (let i = 8; i < len; i++) {
        if (data[i] !== payloadByte(tag, seq, i)) {
          return fault(`producer ${tag} record ${seq}: byte ${i} is ${data[i]}, expected ${payloadByte(tag, seq, i)}`);
        }
      }
    },
    finish() {
      for (const [tag, n] of next) if (n !== count) fault(`producer ${tag}: ${n} records arrived, expected ${count}`);
      if (received !== tags.length * count) fault(`${received} records arrived, expected ${tags.length * count}`);
      if (lost !== 0) fault(`the consumer was told of ${lost} lost records`);
      if (faults.length > 0) throw new Error(faults.join('; '));
    },
  };
}

/** The text of record `seq` of producer `tag` where records are text: non-ASCII, of varying length. */
export function textRecord(tag, seq) {
  return `${tag}:${seq}:${'ü'.repeat(seq % 11)}`;
}
