// The benchmark harness's logic (never a timing assertion): the record
// checker, each contender's validate(), the matrix, the round-robin passes,
// the headline's pairing of runs (A B, then B A; ratios round by round,
// their median and range), and a few real runs with producer workers in
// which every record is checked and the contender's counts must match the
// run's. Imports the built bench (npm test builds first): its workers are JS.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import * as contendersJs from '../../build/bench/contenders/index.js';
import * as harnessJs from '../../build/bench/harness.js';
import * as headlineJs from '../../build/bench/headline.js';
import * as scenariosJs from '../../build/bench/scenarios.js';
import * as utilJs from '../../build/bench/util.js';
import type { BenchConfig, Contender, RunResult } from '../../bench/harness.js';
import type { Cell } from '../../bench/scenarios.js';

// the built modules, typed by their sources
const { BASELINE, contenders, postMessage, ring, ringbufjs } =
  contendersJs as unknown as typeof import('../../bench/contenders/index.js');
const { END, Verifier, closeWorkers, run } = harnessJs as unknown as typeof import('../../bench/harness.js');
const { PAIRS, headline, order } = headlineJs as unknown as typeof import('../../bench/headline.js');
const { budget, cellConfig, matrix, runCells, scenarios } =
  scenariosJs as unknown as typeof import('../../bench/scenarios.js');
const { median, pairedRatios, spread } = utilJs as unknown as typeof import('../../bench/util.js');

afterAll(() => closeWorkers());

const quick = budget(true);
const config = (over: Partial<BenchConfig> = {}): BenchConfig => ({
  ...cellConfig({ name: 'test', recordSize: 64 }, 1, 'adaptive', 'free', quick),
  ...over,
});

it("checks each producer's records complete and in order, then one END", () => {
  const v = new Verifier(2);
  for (let s = 0; s < 3; s++) v.record(0, s), v.record(1, s);
  v.record(0, END);
  expect([v.records, v.done, v.error]).toEqual([6, false, null]);
  v.record(1, END);
  expect([v.done, v.received(0), v.received(1)]).toEqual([true, 3, 3]);
  const gap = new Verifier(1);
  gap.record(0, 0), gap.record(0, 2);
  expect(gap.error).toBe('producer 0: got sequence 2 where 1 was due');
  const repeat = new Verifier(1);
  repeat.record(0, 0), repeat.record(0, 0);
  expect(repeat.error).toBe('producer 0: got sequence 0 where 1 was due');
  const late = new Verifier(1);
  late.record(0, END), late.record(0, 0);
  expect(late.error).toBe('producer 0: got sequence 0 where nothing (its stream had ended) was due');
  const stranger = new Verifier(1);
  stranger.record(3, 0);
  expect([stranger.error, stranger.done]).toEqual(['a record names producer 3, but there are 1', true]);
});

it('every contender refuses back-to-back with more than one producer; each refuses what it cannot do', () => {
  for (const c of contenders) {
    expect(
      c.validate(config({ pace: 'b2b', producers: 2, wakeup: c === ringbufjs ? 'NO_WAKEUP' : 'adaptive' })),
      c.name,
    ).toMatch(/one producer/);
  }
  expect(ringbufjs.validate(config({ producers: 2, wakeup: 'NO_WAKEUP' }))).toMatch(/single-producer/);
  expect(ringbufjs.validate(config({ wakeup: 'adaptive' }))).toMatch(/no wakeup/);
  expect(postMessage.validate(config({ wakeup: 'NO_WAKEUP' }))).toMatch(/no wakeup flags/);
  expect(ring.validate(config({ recordSize: 8192, ringBytes: 8192 }))).toMatch(/payloads of up to 8176 bytes/);
  expect(ring.validate(config({ pace: 'b2b' }))).toBeNull();
});

it('the matrix runs only cells their contender accepts, and lists the others with the reason', () => {
  const { cells, refused } = matrix(contenders, quick);
  for (const c of cells) expect(c.contender.validate(c.config), c.label).toBeNull();
  expect(refused.length).toBeGreaterThan(0);
  for (const r of refused) expect(r.reason).not.toBe('');
  expect(new Set(cells.map((c) => c.label)).size).toBe(cells.length);
  for (const s of scenarios)
    expect(
      cells.some((c) => c.config.scenario === s.name),
      s.name,
    ).toBe(true);
  expect(cells.filter((c) => c.config.pace === 'b2b').every((c) => c.config.producers === 1)).toBe(true);
  expect(cells.some((c) => c.contender === BASELINE)).toBe(true);
});

it('takes ratios run by run, and their median and range', () => {
  expect(median([3, 1, 2])).toBe(2);
  expect(median([4, 1, 3, 2])).toBe(2.5);
  expect(pairedRatios([10, 20, 30], [5, 5, 10])).toEqual([2, 4, 3]);
  expect(() => pairedRatios([1, 2], [1])).toThrow(RangeError);
  expect(spread([2, 4, 3])).toEqual({ median: 3, min: 2, max: 4, n: 3 });
});

/** A contender that is never run for real: the tests below give the runs. */
function named(name: string): Contender {
  return {
    name,
    validate: () => null,
    setup: async () => ({ state: null, shared: null }),
    producer: () => ({ write: () => true }),
    consumer: async () => {},
    measure: () => ({ records: 0, drops: 0, wakeups: null }),
    report: () => `${name}'s note`,
  };
}

/** A run that moved `records` in one second. */
const result = (records: number): RunResult => ({
  records,
  elapsedMs: 1000,
  drops: 0,
  wakeups: null,
  stopped: false,
  producerUsPerRecord: null,
  latency: null,
});

it("runs each pair's two sides back to back, A B then B A, and divides them round by round", async () => {
  const [a, b, c] = [named('a'), named('b'), named('c')];
  const pairs = [
    {
      name: 'a ÷ b',
      detail: '',
      a: { contender: a, producers: 1, wakeup: 'adaptive' as const },
      b: { contender: b, producers: 1, wakeup: 'adaptive' as const },
    },
    {
      name: 'a ÷ c',
      detail: '',
      a: { contender: a, producers: 1, wakeup: 'adaptive' as const },
      b: { contender: c, producers: 1, wakeup: 'adaptive' as const },
    },
  ];
  const log: string[] = [];
  // a moves 100 records a second throughout; b 50, 25, 50, 10 round by round; c always 100
  const bRates = [50, 25, 50, 10];
  let counted = false;
  const fakeRun = async (contender: Contender, cfg: BenchConfig): Promise<RunResult> => {
    if (cfg.timeLimitMs < 100 && !counted) return result(1); // the uncounted warm-up runs: half as long
    counted = true;
    log.push(contender.name);
    return result(contender === a ? 100 : contender === b ? bRates[log.filter((n) => n === 'b').length - 1]! : 100);
  };
  const h = await headline(4, { ...quick, runMs: 100 }, () => {}, [], pairs, fakeRun);
  expect(order(0)).toEqual(['a', 'b']);
  expect(order(1)).toEqual(['b', 'a']);
  expect(log).toEqual(['a', 'b', 'a', 'c', 'b', 'a', 'c', 'a', 'a', 'b', 'a', 'c', 'b', 'a', 'c', 'a']);
  expect(h.pairs[0]!.ratio).toEqual({ median: 3, min: 2, max: 10, n: 4 }); // 2, 4, 2, 10
  expect(h.pairs[1]!.ratio).toEqual({ median: 1, min: 1, max: 1, n: 4 });
});

it('leaves a failing pair out of the later rounds and reports it', async () => {
  const [a, b] = [named('a'), named('b')];
  const pair = {
    name: 'a ÷ b',
    detail: '',
    a: { contender: a, producers: 1, wakeup: 'adaptive' as const },
    b: { contender: b, producers: 2, wakeup: 'adaptive' as const },
  };
  const errors: string[] = [];
  let runs = 0;
  const h = await headline(
    3,
    quick,
    () => {},
    errors,
    [pair],
    async (_, cfg) => {
      if (cfg.producers === 2 && ++runs === 3) throw new Error('b failed');
      return result(10);
    },
  );
  expect(h.pairs[0]!.ratio).toBeNull();
  expect(h.pairs[0]!.error).toBe('b failed');
  expect(errors).toEqual(['headline a ÷ b: b failed']);
});

it("the headline pairs put the README's default path over each alternative, with their own baselines", () => {
  expect(
    PAIRS.map(
      (p) =>
        `${p.a.contender.name}/${p.a.producers}/${p.a.wakeup} ÷ ${p.b.contender.name}/${p.b.producers}/${p.b.wakeup}`,
    ),
  ).toEqual([
    'wasm-ringbuf/1/adaptive ÷ postMessage/1/adaptive',
    'wasm-ringbuf/1/adaptive ÷ postMessage ×64/1/adaptive',
    'wasm-ringbuf/1/adaptive ÷ ringbuf.js/1/NO_WAKEUP',
    'wasm-ringbuf/2/adaptive ÷ wasm-ringbuf/1/adaptive',
    'wasm-ringbuf/1/adaptive ÷ wasm-ringbuf/1/NO_WAKEUP',
  ]);
  for (const p of PAIRS) for (const side of [p.a, p.b]) expect(side.contender.validate(config(side))).toBeNull();
});

it('runs every cell once per pass, in order, and stops running a cell that erred', async () => {
  const log: string[] = [];
  const cells: Cell[] = ['a', 'b', 'c'].map((name) => ({
    label: `test/${name}`,
    contender: named(name),
    config: config(),
  }));
  const errors: string[] = [];
  const reports = await runCells(
    cells,
    3,
    () => {},
    errors,
    async (c) => {
      log.push(c.name);
      if (c.name === 'b' && log.length > 3) throw new Error('b failed');
      return result(log.length);
    },
  );
  expect(log).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'a', 'c']);
  expect(errors).toEqual(['test/b: b failed']);
  expect(reports.map((r) => [r.runs.length, r.error, r.note])).toEqual([
    [3, null, "a's note"],
    [1, 'b failed', ''],
    [3, null, "c's note"],
  ]);
  expect(reports[0]!.median!.recordsPerSec).toBe(4); // runs of 1, 4, 7 records per second
});

it("runs real producers: every record checked, the contender's counts matching the run's", async () => {
  for (const [c, over] of [
    [ring, {}],
    [ring, { producers: 2, wakeup: 'NO_WAKEUP' }],
    [postMessage, { producers: 2 }],
    [ringbufjs, { wakeup: 'NO_WAKEUP' }],
    [ring, { pace: 'b2b', records: 300 }],
    [postMessage, { pace: 'b2b', records: 300 }],
    [ring, { pace: { rate: 20_000 }, records: 1000 }],
  ] as [Contender, Partial<BenchConfig>][]) {
    const cfg = config({ records: 20_000, timeLimitMs: 60_000, ...over });
    const r = await run(c, cfg);
    expect(r, `${c.name} ${JSON.stringify(over)}`).toMatchObject({ records: cfg.records, stopped: false });
    if (cfg.pace !== 'free') expect(r.latency!.p99Us).toBeGreaterThan(0);
  }
}, 120_000);

it('fails a run whose contender miscounts, and refuses a run validate() refuses', async () => {
  const miscount: Contender = {
    ...ring,
    measure: (state: never, session: never) => ({ ...ring.measure(state, session), drops: -1 }),
  };
  await expect(run(miscount, config({ records: 1000 }))).rejects.toThrow(
    /wasm-ringbuf counted 1000 records and -1 refusals, the run 1000 and \d+/,
  );
  await expect(run(ringbufjs, config({ producers: 2 }))).rejects.toThrow(
    /ringbuf.js refuses this configuration: ringbuf.js is single-producer/,
  );
}, 60_000);

it("npm start's entry prints the five headline ratios with their range, in at most 30 lines", async () => {
  const script = fileURLToPath(new URL('../../build/bench/run.js', import.meta.url));
  const { stdout } = await promisify(execFile)(process.execPath, [script, '--headline', '--quick'], {
    timeout: 120_000,
  });
  const lines = stdout.trimEnd().split('\n');
  expect(lines.length).toBeLessThanOrEqual(30);
  for (const p of PAIRS)
    expect(stdout).toMatch(
      new RegExp(`${p.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} +\\d+\\.\\d\\d× +\\d+\\.\\d\\d×–\\d+\\.\\d\\d×`),
    );
}, 120_000);
