// The benchmark harness: every scenario × contender cell, the steady-rate
// section (bench/steady.ts) and the micro-benchmarks, then the report.
//
//   node build/bench/run.js [--quick] [--filter=<substring>[,<substring>...]] [--out=<dir>]
//
// --quick     one short run per cell of a reduced matrix (a smoke test: it
//             fails only when a contender errs, never on timing; its outputs
//             say so at the top)
// --filter    run only the cells whose label (scenario/contender/Np/SizeB/wakeup,
//             then /<rate>/s for the steady cells, or micro/<operation>)
//             contains one of the substrings
// --out       where results.md, results.json and chart.svg go
//             (default bench/results/, or bench/results/quick/ with --quick)
//
// Exits 1 when any contender erred, 2 on bad arguments.

import os from 'node:os';
import { chart } from './chart.js';
import { QUICK_NOTICE, entry, message, parseArgs, writeResults } from './cli.js';
import { BASELINE, contenders } from './contenders/index.js';
import { runMicro, type MicroRun } from './micro.js';
import { addRatios, headline, machine, markdown, type Report } from './report.js';
import { budget, matrix, runCells, scenarios } from './scenarios.js';
import { STEADY_SCENARIOS, steadyCells, steadyRatios } from './steady.js';

const USAGE = 'node build/bench/run.js [--quick] [--filter=<substring>[,<substring>...]] [--out=<dir>]';

function parse(argv: readonly string[]) {
  let filters: string[] = [];
  const common = parseArgs('run.js', argv, { '--filter': (v) => void (filters = v.split(',').filter((f) => f !== '')) });
  return { ...common, filters };
}

await entry(USAGE, parse, async (options, progress, errors) => {
  const include = (label: string): boolean => options.filters.length === 0 || options.filters.some((f) => label.includes(f));
  const all = matrix(contenders, options.quick);
  const cells = [...all.cells, ...steadyCells(options.quick)].filter((c) => include(c.label));
  const b = budget(options.quick);
  const host = machine();

  let micro: MicroRun = { tasks: [], pairs: [] };
  try {
    micro = await runMicro(options.quick, (name) => include(`micro/${name}`), (name) => progress.show(`micro · ${name}`), errors);
  } catch (error) {
    errors.push(`micro: ${message(error)}`);
  }
  const ran = await runCells(cells, b.runs, progress.show, errors);
  const reports = ran.filter((r) => !STEADY_SCENARIOS.includes(r.config.scenario));
  const steady = ran.filter((r) => STEADY_SCENARIOS.includes(r.config.scenario));
  progress.done();
  if (ran.length === 0 && micro.tasks.length === 0 && errors.length === 0) {
    console.error(`no benchmark label contains ${options.filters.map((f) => JSON.stringify(f)).join(' or ')}; labels look like ` +
      `${JSON.stringify(all.cells[0]?.label)} or "micro/output, 64 B"\nusage: ${USAGE}`);
    return 2;
  }

  addRatios(reports, BASELINE);
  const report: Report = {
    notice: options.quick ? QUICK_NOTICE : null,
    machine: { ...host, load: [...host.load, os.loadavg()[0]!] },
    mode: options.quick ? 'quick' : 'full',
    command: options.command,
    budget: b,
    baseline: BASELINE,
    headline: headline(reports, micro.tasks, micro.pairs),
    cells: reports,
    refused: all.refused.filter((r) => include(r.label)),
    micro: micro.tasks,
    microPairs: micro.pairs,
    steady: { cells: steady, ratios: steadyRatios(steady) },
    errors,
  };
  const md = markdown(report, scenarios);
  const title = `${options.quick ? 'QUICK RUN, a smoke test: not comparable with a full run · ' : ''}` +
    `wasm-ringbuf · ${report.machine.cpu} · ${report.machine.cores} cores · Node ${report.machine.node}`;
  process.stdout.write(md);
  await writeResults(options.out, {
    'results.md': md,
    'results.json': `${JSON.stringify(report, null, 2)}\n`,
    'chart.svg': chart(reports, title),
  });
  return errors.length > 0 ? 1 : 0;
});
