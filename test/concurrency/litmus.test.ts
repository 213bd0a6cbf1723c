// The BPF ring buffer's litmus tests, posted with the kernel patches
// (bpf-rb+1p1c+bounded, +2p1c+bounded, +1p1c+unbound, +2p1c+unbound), as
// stress runs with real workers: the consumer never sees a record before its
// header and payload are complete (every record's checksum is verified),
// nothing is consumed twice, and refusals are counted exactly. "Bounded": a
// ring small enough that producers find it full; "unbound": one that holds
// every record. SOAK=1 runs millions of records.
import { describe, expect, it } from 'vitest';
import { run } from '../helpers/run.js';
import { scaled } from '../helpers/workers.js';

const RECORDS = scaled(200_000);
const [MIN, MAX] = [12, 60];
const unboundSize = 2 ** Math.ceil(Math.log2(RECORDS * (MAX + 16)));

describe('litmus', () => {
  for (const producers of [1, 2]) {
    it(`bpf-rb+${producers}p1c+bounded`, async () => {
      const r = await run({
        name: `litmus-b${producers}`,
        producers,
        size: 4096,
        count: RECORDS / producers,
        min: MIN,
        max: MAX,
        retry: false,
      });
      expect(r.produced + r.dropped).toBe(RECORDS);
      expect(r.dropped).toBeGreaterThan(0);
    });

    it(`bpf-rb+${producers}p1c+unbound`, async () => {
      const r = await run({
        name: `litmus-u${producers}`,
        producers,
        size: unboundSize,
        count: RECORDS / producers,
        min: MIN,
        max: MAX,
        retry: false,
      });
      expect(r.dropped).toBe(0);
      expect(r.produced).toBe(RECORDS);
    });
  }
});
