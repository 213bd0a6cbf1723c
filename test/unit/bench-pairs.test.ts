// The benchmark's paired figures (never a timing assertion): the one-thread
// cell (bench/solo.ts), whose loop reads back and checks every record it
// writes, beside the saturation cell it is paired with; and two micro tasks
// timed in alternation (bench/micro.ts).
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { RingBuffer } from 'wasm-ringbuf';
import { emitter } from '../../bench/contenders/wasm-ring.js';
import type { Producer } from '../../bench/harness.js';
import { writeAndDrain } from '../../bench/solo.js';
import { median, threadCpuNs } from '../../bench/util.js';

interface Cell {
  contender: string;
  config: { scenario: string; records: number; producers: number };
  error: string | null;
  runs: { records: number; drops: number; stopped: boolean; elapsedMs: number; producerUsPerRecord: number | null; consumerNsPerRecord: number | null }[];
}

/** Runs the benchmark in quick mode with `filter`; its stdout and results.json. */
async function bench<T>(filter: string): Promise<{ stdout: string; report: T & { errors: string[] } }> {
  const script = fileURLToPath(new URL('../../build/bench/run.js', import.meta.url));
  const out = await mkdtemp(join(tmpdir(), 'ringbuf-bench-'));
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [script, '--quick', `--filter=${filter}`, `--out=${out}`], { timeout: 120_000 });
    return { stdout, report: JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) };
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

it('writes its whole quota on one thread, reads every record back, and pairs with the saturation cell', async () => {
  const { stdout, report } = await bench<{ steady: { cells: Cell[] } }>('saturation/one thread,saturation/default/1p');
  expect(stdout).toMatch(/\| cross-thread ÷ single-thread produce rate: saturation, default ÷ one thread \| \d+\.\d\d \|/);
  expect(report.errors).toEqual([]);
  const solo = report.steady.cells.find((c) => c.contender === 'one thread');
  expect(solo?.error).toBeNull();
  expect(solo!.runs.length).toBeGreaterThan(0);
  for (const run of solo!.runs) {
    expect(run).toMatchObject({ records: solo!.config.records, stopped: false });
    expect(run.elapsedMs).toBeGreaterThan(0);
  }
}, 150_000);

it('runs the two-producer saturation cells again with a raw consumer callback and divides them run by run', async () => {
  type Report = { steady: { cells: Cell[]; ratios: { name: string; value: number }[] } };
  const { stdout, report } = await bench<Report>('saturation/reserveBlocking/2p,saturation/reserveBlocking + addRaw/');
  expect(report.errors).toEqual([]);
  // exactly the three cells the filter names: a contender name with a comma in it would split the filter
  expect(report.steady.cells.map((c) => `${c.contender}/${c.config.producers}`).sort()).toEqual(
    ['reserveBlocking + addRaw/1', 'reserveBlocking + addRaw/2', 'reserveBlocking/2']);
  expect(stdout).toContain('| scenario | variant | producers | rate | records/s | producer µs/record | consumer ns/record |');
  const runs = (contender: string, producers: number): Cell['runs'] => {
    const cell = report.steady.cells.find((c) => c.contender === contender && c.config.producers === producers);
    expect(cell?.error).toBeNull();
    for (const run of cell!.runs) {
      expect(run).toMatchObject({ records: cell!.config.records, drops: 0, stopped: false });
      // the consumer's thread ran for every record, and for less CPU time than the run lasted (null where no thread CPU clock is readable)
      if (threadCpuNs() === null) {
        expect(run.consumerNsPerRecord).toBeNull();
      } else {
        expect(run.consumerNsPerRecord).toBeGreaterThan(0);
        expect(run.consumerNsPerRecord! * run.records).toBeLessThanOrEqual(run.elapsedMs * 1e6);
      }
    }
    return cell!.runs;
  };
  const rate = (r: Cell['runs'][number]): number => (r.records * 1000) / r.elapsedMs;
  const view2 = runs('reserveBlocking', 2);
  const raw1 = runs('reserveBlocking + addRaw', 1);
  const raw2 = runs('reserveBlocking + addRaw', 2);
  const ratio = (name: string): number | undefined => report.steady.ratios.find((h) => h.name === name)?.value;
  const paired = (a: Cell['runs'], b: Cell['runs'], f: (r: Cell['runs'][number]) => number): number => median(a.map((r, i) => f(r) / f(b[i]!)));
  expect(ratio('2 producers ÷ 1 producer, reserveBlocking + addRaw, aggregate records/s')).toBeCloseTo(paired(raw2, raw1, rate), 9);
  expect(ratio('2 producers, reserveBlocking: view callback ÷ raw callback, records/s')).toBeCloseTo(paired(view2, raw2, rate), 9);
  const cpuRatio = ratio('2 producers, reserveBlocking: consumer\'s CPU ns per record, view callback ÷ raw callback');
  if (threadCpuNs() === null) expect(cpuRatio).toBeUndefined();
  else expect(cpuRatio).toBeCloseTo(paired(view2, raw2, (r) => r.consumerNsPerRecord!), 9);
}, 150_000);

it('reads the thread\'s CPU clock: it runs with work on this thread and stands still while the thread sleeps', () => {
  const t0 = threadCpuNs();
  if (t0 === null) {
    expect(process.platform).not.toBe('linux'); // /proc/thread-self/schedstat is Linux's
    return;
  }
  let x = 0;
  for (let i = 0; i < 5e6; i++) x = (x + i * i) % 1_000_003;
  const t1 = threadCpuNs()!;
  expect(x).toBeGreaterThanOrEqual(0);
  expect(t1).toBeGreaterThan(t0);
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200); // a 200 ms sleep, which uses no CPU
  expect(threadCpuNs()! - t1).toBeLessThan(100e6);
});

it('divides the raw path\'s cross-thread cell by the matrix\'s one-thread cell run by run', async () => {
  type Run = { records: number; elapsedMs: number };
  const { report } = await bench<{ cells: (Cell & { runs: Run[] })[]; headline: { name: string; value: number }[] }>(
    'producers/wasm-ringbuf raw lock/1p,producers/wasm-ringbuf raw, one thread/1p');
  expect(report.errors).toEqual([]);
  const rates = (contender: string): number[] =>
    report.cells.find((c) => c.contender === contender)!.runs.map((r) => (r.records * 1000) / r.elapsedMs);
  const across = rates('wasm-ringbuf raw lock');
  const alone = rates('wasm-ringbuf raw, one thread');
  expect(alone).toHaveLength(across.length);
  const ratios = across.map((r, i) => r / alone[i]!).sort((a, b) => a - b);
  const line = report.headline.find((h) => h.name === '1 producer, 64 B: cross-thread ÷ single-thread produce rate');
  expect(line?.value).toBeCloseTo(ratios[ratios.length >> 1]!, 9);
}, 150_000);

it('the one-thread loop writes its quota in batches and reads every record back', async () => {
  const rb = await RingBuffer.create({ size: 4096 }); // 56 records of 64 B: batches of 28, many laps
  expect(writeAndDrain(rb, emitter(rb, 'reserve'), 5000, 64, 60_000).records).toBe(5000);
  expect(rb.stats().dropped).toBe(0);
});

it('the one-thread loop fails on a record lost, repeated or refused, and on a ring too small for two', async () => {
  const rb = await RingBuffer.create({ size: 4096 });
  const write = emitter(rb, 'raw');
  const seqOf = (record: Uint8Array): number => new Uint32Array(record.buffer, record.byteOffset, 2)[1]!;
  const skipping: Producer['write'] = (record, flags) => seqOf(record) === 100 || write(record, flags);
  expect(() => writeAndDrain(rb, skipping, 1000, 64, 60_000)).toThrow('producer 0: got sequence 101 where 100 was due');
  const repeating: Producer['write'] = (record, flags) => (seqOf(record) === 100 && write(record, flags), write(record, flags));
  expect(() => writeAndDrain(rb, repeating, 1000, 64, 60_000)).toThrow('producer 0: got sequence 100 where 101 was due');
  expect(() => writeAndDrain(rb, () => false, 1000, 64, 60_000)).toThrow('record 0 found no room');
  expect(() => writeAndDrain(rb, write, 10, 2048, 60_000)).toThrow(RangeError); // 2 × 2056 B > 4096
});

it('times two micro tasks in alternation and reports the median of their batch-by-batch ratios', async () => {
  const blocking = 'reserveBlocking + data.set + submit, 64 B (room at the first try)';
  const reserve = 'reserve + data.set + submit, 64 B';
  const { stdout, report } = await bench<{ microPairs: { a: string; b: string; ratio: number; batches: number }[]; micro: { name: string }[] }>(
    'micro/reserve + data.set,micro/reserveBlocking'); // a filter ends at a comma
  expect(report.errors).toEqual([]);
  expect(report.micro.map((m) => m.name)).toEqual([reserve, blocking]);
  expect(report.microPairs).toHaveLength(1);
  const [pair] = report.microPairs;
  expect(pair).toMatchObject({ a: blocking, b: reserve });
  expect(pair!.batches).toBeGreaterThan(0);
  expect(Number.isFinite(pair!.ratio) && pair!.ratio > 0).toBe(true);
  expect(stdout).toContain(`| reserveBlocking() ÷ reserve(), 64 B, one thread, ns/op | ${pair!.ratio.toFixed(2)} |`);
  expect(stdout).toContain(`| ${blocking} ÷ ${reserve} | ${pair!.ratio.toFixed(2)} | ${pair!.batches} |`);
}, 150_000);

it('leaves a pair out when the filter keeps only one of its tasks', async () => {
  const { stdout, report } = await bench<{ microPairs: unknown[]; micro: { name: string }[] }>('micro/reserveBlocking');
  expect(report.errors).toEqual([]);
  expect(report.micro).toHaveLength(1);
  expect(report.microPairs).toEqual([]);
  expect(stdout).not.toContain('reserveBlocking() ÷ reserve()');
}, 150_000);
