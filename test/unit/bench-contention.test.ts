// The producers-alone extra (bench/extras/contention.ts): its check of what
// the producers wrote, and one quick run of every configuration with real
// workers.
import { expect, it } from 'vitest';
import { RingBuffer } from 'wasm-ringbuf';
import { drainAndCheck, runContention } from '../../build/bench/extras/contention.js';
import { RecordTemplate } from '../../build/bench/harness.js';

/** A ring holding `seqs[i]` from producer i, interleaved as two producers would. */
async function ringWith(seqs: number[][]): Promise<RingBuffer> {
  const rb = await RingBuffer.create({ size: 1 << 16 });
  const templates = seqs.map((_, i) => new RecordTemplate(64, i));
  for (let k = 0; k < Math.max(...seqs.map((s) => s.length)); k++) {
    seqs.forEach((s, i) => {
      if (k < s.length) expect(rb.output(templates[i]!.stamp(s[k]!))).toBe(true);
    });
  }
  return rb;
}

it('reads back every record of every producer, and fails on one missing, repeated or short', async () => {
  const all = [...Array(100).keys()];
  drainAndCheck(await ringWith([all, all]), 2, 100);
  expect(drainAndCheck.bind(null, await ringWith([all, all.filter((s) => s !== 40)]), 2, 100)).toThrow(/producer 1: got sequence 41 where 40 was due/);
  expect(drainAndCheck.bind(null, await ringWith([[...all.slice(0, 10), 9, ...all.slice(10)], all]), 2, 100)).toThrow(/producer 0: got sequence 9 where 10 was due/);
  expect(drainAndCheck.bind(null, await ringWith([all, all.slice(0, 99)]), 2, 100)).toThrow(/producer 1: 99 records read back, 100 written/);
});

it('runs one and two producer workers for each claim and call path, and pairs their rates run by run', async () => {
  const r = await runContention({ quick: true });
  expect(r.rows.map((row) => `${row.claim} ${row.calls}`)).toEqual([
    'lock reserveBlocking → data.set → submit', 'lock reserveRaw → copy → submitRaw',
    'cas reserveBlocking → data.set → submit', 'cas reserveRaw → copy → submitRaw',
  ]);
  for (const row of r.rows) {
    expect(row.oneProducer).toBeGreaterThan(0);
    expect(row.twoProducers).toBeGreaterThan(0);
    expect(Number.isFinite(row.ratio) && row.ratio > 0).toBe(true);
    expect(row.lockWaitsPerRecord).toBeGreaterThanOrEqual(0);
  }
  expect(r.recordsPerRun * 72).toBeLessThan(r.ringBytes); // every record fits: no write waits for room
}, 120_000);
