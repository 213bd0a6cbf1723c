// The benchmark's paired figures run end to end (smoke tests: never a timing
// assertion): the one-thread cell (bench/solo.ts) beside the saturation cell
// it is paired with, every record it writes read back and checked in its
// worker; and two micro tasks timed in alternation (bench/micro.ts).
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

interface Cell {
  contender: string;
  config: { scenario: string; records: number; producers: number };
  error: string | null;
  runs: { records: number; drops: number; stopped: boolean; elapsedMs: number; producerUsPerRecord: number | null }[];
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
    expect(run).toMatchObject({ records: solo!.config.records, drops: 0, stopped: false });
    expect(run.elapsedMs).toBeGreaterThan(0);
    expect(run.producerUsPerRecord).toBeCloseTo((run.elapsedMs * 1000) / run.records, 9);
  }
}, 150_000);

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
  expect(pair!.ratio).toBeGreaterThan(0);
  expect(stdout).toContain(`| reserveBlocking() ÷ reserve(), 64 B, one thread, ns/op | ${pair!.ratio.toFixed(2)} |`);
}, 150_000);
