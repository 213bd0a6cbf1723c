// The benchmark's scheduling of runs (bench/scenarios.ts runCells): every cell
// runs the budget's number of times, a cell that asks for more gets its extra
// passes, and the cells of a pass stay in order, so that the cells a ratio
// pairs run side by side. The contenders here only record when they ran.
import { expect, it } from 'vitest';
import type { BenchConfig, Contender, RunResult } from '../../bench/config.js';
import { contenders } from '../../bench/contenders/index.js';
import { JUDGED_RUNS, matrix, runCells, type Cell } from '../../bench/scenarios.js';

const config = { scenario: 'test' } as BenchConfig;

function cells(order: string[], plan: [string, number | undefined][], failing = ''): Cell[] {
  return plan.map(([name, runs]) => {
    const contender: Contender = {
      name,
      validate: () => null,
      async run(): Promise<RunResult> {
        order.push(name);
        if (name === failing) throw new Error(`${name} failed`);
        return { records: 10, elapsedMs: order.length, drops: 0, wakeups: null, lockWaits: null, stopped: false, producerUsPerRecord: null, latency: null, consumerNsPerRecord: null };
      },
    };
    return { label: `test/${name}`, contender, config, ...(runs === undefined ? {} : { runs }) };
  });
}

it('runs each cell the budget\'s number of times, or its own, in order within every pass', async () => {
  const order: string[] = [];
  const progress: string[] = [];
  const reports = await runCells(cells(order, [['a', undefined], ['b', 4], ['c', undefined], ['d', 4]]), 2, (t) => progress.push(t), []);
  expect(order).toEqual(['a', 'b', 'c', 'd', 'a', 'b', 'c', 'd', 'b', 'd', 'b', 'd']);
  expect(reports.map((r) => r.runs.length)).toEqual([2, 4, 2, 4]);
  expect(reports.every((r) => r.median !== null)).toBe(true);
  expect(progress.at(-1)).toBe('pass 4/4 · [2/2] test/d');
});

it('stops running a cell that erred and reports it', async () => {
  const order: string[] = [];
  const errors: string[] = [];
  const reports = await runCells(cells(order, [['a', 3], ['b', 3]], 'a'), 1, () => {}, errors);
  expect(order).toEqual(['a', 'b', 'b', 'b']);
  expect(errors).toEqual(['test/a: a failed']);
  expect(reports[0]!.median).toBeNull();
  expect(reports[1]!.runs).toHaveLength(3);
});

it('runs the two cells of the headline\'s cross-thread ratio JUDGED_RUNS times in full mode, and no other matrix cell', () => {
  const extra = (quick: boolean): string[] => matrix(contenders, quick).cells.filter((c) => c.runs !== undefined).map((c) => `${c.label} ${c.runs}`);
  expect(extra(false)).toEqual([
    `producers/wasm-ringbuf raw lock/1p/64B/adaptive ${JUDGED_RUNS}`, `producers/wasm-ringbuf raw, one thread/1p/64B/adaptive ${JUDGED_RUNS}`,
  ]);
  expect(extra(true)).toEqual([]);
});
