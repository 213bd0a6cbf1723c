// Seeded record writer and verifier shared by the tests and their worker
// fixtures. A record of producer `id`, sequence `seq` is:
//
//   bytes 0..3   id (u32 LE)        bytes 4..7   seq (u32 LE)
//   bytes 8..n-5 pattern bytes       bytes n-4..n-1  FNV-1a checksum of 0..n-5
//
// Its length n is drawn from a PRNG seeded by (seed, id, seq), so the
// verifier knows what every record must look like without being told.

/** mulberry32: a small, fast, seeded PRNG returning uint32. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** Length of record (id, seq): from `min` to `max` bytes, at least 12. */
export function recordLength(seed, id, seq, min, max) {
  const h = Math.imul(seed ^ Math.imul(id, 0x9e3779b1) ^ Math.imul(seq, 0x85ebca6b), 0xc2b2ae35) >>> 0;
  return min + (((h ^ (h >>> 16)) >>> 0) % (max - min + 1));
}

function fnv1a(bytes, start, end) {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return h >>> 0;
}

/** Writes record (id, seq) of length `len` (>= 12) into bytes[off .. off+len). */
export function writeRecord(bytes, off, id, seq, len) {
  const dv = new DataView(bytes.buffer, bytes.byteOffset);
  dv.setUint32(off, id, true);
  dv.setUint32(off + 4, seq, true);
  const base = (id * 31 + seq * 17) & 255;
  for (let i = 8; i < len - 4; i++) bytes[off + i] = (base + i) & 255;
  dv.setUint32(off + len - 4, fnv1a(bytes, off, off + len - 4), true);
}

/**
 * Checks every record of every producer: lengths as drawn, checksums,
 * per-producer sequences with nothing lost, duplicated or reordered.
 */
export class SequenceVerifier {
  constructor(seed, producers, min, max, { gaps = false } = {}) {
    this.seed = seed;
    this.gaps = gaps;
    this.skipped = 0;
    this.min = min;
    this.max = max;
    this.next = new Map(producers.map((id) => [id, 0]));
    this.records = 0;
    this.lost = 0;
    this.errors = [];
  }

  /** Expects records from another producer id, from sequence 0. */
  addProducer(id) {
    if (!this.next.has(id)) this.next.set(id, 0);
  }

  /** Checks one record; `lost` is what the consumer reported before it. */
  check(bytes, off, len, lost = 0) {
    this.records++;
    this.lost += lost;
    if (len < 12) return this.#fail(`record ${this.records}: length ${len} < 12`);
    const dv = new DataView(bytes.buffer, bytes.byteOffset);
    const id = dv.getUint32(off, true);
    const seq = dv.getUint32(off + 4, true);
    const want = this.next.get(id);
    if (want === undefined) return this.#fail(`record ${this.records}: unknown producer id ${id}`);
    if (seq !== want && !(this.gaps && seq > want)) {
      return this.#fail(
        `producer ${id}: expected seq ${want}, got ${seq} (${seq < want ? 'duplicate or reordered' : 'lost'})`,
      );
    }
    this.skipped += seq - want;
    this.next.set(id, seq + 1);
    const wantLen = recordLength(this.seed, id, seq, this.min, this.max);
    if (len !== wantLen) return this.#fail(`producer ${id} seq ${seq}: length ${len}, expected ${wantLen}`);
    const base = (id * 31 + seq * 17) & 255;
    for (let i = 8; i < len - 4; i++) {
      if (bytes[off + i] !== ((base + i) & 255)) return this.#fail(`producer ${id} seq ${seq}: payload byte ${i} torn`);
    }
    if (dv.getUint32(off + len - 4, true) !== fnv1a(bytes, off, off + len - 4)) {
      return this.#fail(`producer ${id} seq ${seq}: checksum mismatch`);
    }
    return true;
  }

  #fail(message) {
    if (this.errors.length < 10) this.errors.push(`${message} [seed ${this.seed}]`);
    return false;
  }
}
