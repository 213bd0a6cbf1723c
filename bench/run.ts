// The benchmark's entry.
//
//   node build/bench/run.js --headline   the headline ratios only, printed (npm start)
//   node build/bench/run.js              the full set (npm run bench): the headline rounds, every cell
//                                        of the matrix, the micro-benchmarks; writes results.md,
//                                        results.json and chart.svg into bench/results/
//   deno run -A build/bench/run.js, bun build/bench/run.js: the same in Deno and Bun, into
//                                        bench/results/deno/ and bench/results/bun/
//
// --quick        a smoke test of the same (one short run per cell, two headline rounds of short
//                runs): it fails only when a contender errs, never on timing; writes into
//                build/bench-quick/ and says at the top that it measured nothing
// --filter=a,b   only the matrix cells whose label (scenario/contender/producers/wakeup/pace)
//                contains one of the substrings, and the micro-benchmarks micro/<name>; no headline
// --out=<dir>    where the result files go
//
// A progress line goes to stderr. Exits 1 when anything erred, 2 on bad arguments.

import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chart } from './chart.js';
import { BASELINE, contenders } from './contenders/index.js';
import { headline, type HeadlineResult } from './headline.js';
import { runMicro, type MicroResult } from './micro.js';
import { engine, headlineText, machine, markdown, type Report } from './report.js';
import { budget, matrix, runCells } from './scenarios.js';
import { ProgressLine, message } from './util.js';

/** The runtime, and the command that runs this file in it. */
const ENGINE = engine().split(' ')[0]!.toLowerCase();
const RUN_COMMAND =
  { deno: 'deno run -A build/bench/run.js', bun: 'bun build/bench/run.js' }[ENGINE] ?? 'node build/bench/run.js';
const USAGE = `${RUN_COMMAND} [--headline] [--quick] [--filter=<substring>[,<substring>...]] [--out=<dir>]`;
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Headline rounds and run length. npm start must end within 30 s of a clean
 * clone's install, its build (about 14 s on a quiet 2-core machine)
 * included: 7 rounds of the 5 ratios, two runs of 80 ms each, take about
 * 7 s there. The full run takes more rounds of longer runs.
 */
const HEADLINE = { start: { rounds: 7, runMs: 80 }, full: { rounds: 15, runMs: 400 }, quick: { rounds: 2, runMs: 50 } };

interface Options {
  headlineOnly: boolean;
  quick: boolean;
  filters: string[];
  out: string;
  command: string;
}

function parse(argv: readonly string[]): Options {
  const o: Options = {
    headlineOnly: false,
    quick: false,
    filters: [],
    out: '',
    command: [RUN_COMMAND, ...argv].join(' '),
  };
  let out: string | null = null;
  for (const arg of argv) {
    if (arg === '--headline') o.headlineOnly = true;
    else if (arg === '--quick') o.quick = true;
    else if (arg.startsWith('--filter='))
      o.filters = arg
        .slice('--filter='.length)
        .split(',')
        .filter((f) => f !== '');
    else if (arg.startsWith('--out=') && arg.length > '--out='.length) out = path.resolve(arg.slice('--out='.length));
    else throw new Error(`unknown argument ${JSON.stringify(arg)}`);
  }
  if (o.headlineOnly && o.filters.length > 0)
    throw new Error('--headline runs the headline pairs only: leave out --filter');
  // each runtime's results apart: bench/results for Node, bench/results/deno and bench/results/bun
  const results = ENGINE === 'node' ? 'bench/results' : `bench/results/${ENGINE}`;
  o.out = out ?? path.join(ROOT, o.quick ? `build/bench-quick/${ENGINE}` : results);
  return o;
}

async function main(o: Options, progress: ProgressLine, errors: string[]): Promise<number> {
  const host = machine();
  const b = budget(o.quick);
  const rounds = HEADLINE[o.quick ? 'quick' : o.headlineOnly ? 'start' : 'full'];
  let head: HeadlineResult | null = null;
  if (o.filters.length === 0)
    head = await headline(rounds.rounds, { ...b, runMs: rounds.runMs }, progress.show, errors);
  const ended = (): typeof host => ({ ...host, load: [...host.load, os.loadavg()[0]!] });
  if (o.headlineOnly) {
    progress.done();
    process.stdout.write(headlineText(head!, ended(), o.quick));
    return errors.length > 0 ? 1 : 0;
  }

  const include = (label: string): boolean => o.filters.length === 0 || o.filters.some((f) => label.includes(f));
  const all = matrix(contenders, b);
  const cells = all.cells.filter((c) => include(c.label));
  let micro: MicroResult[] = [];
  try {
    micro = await runMicro(
      o.quick,
      (name) => include(`micro/${name}`),
      (name) => progress.show(`micro · ${name}`),
    );
  } catch (error) {
    errors.push(`micro: ${message(error)}`);
  }
  const reports = await runCells(cells, b.runs, progress.show, errors);
  progress.done();
  if (head === null && reports.length === 0 && micro.length === 0) {
    console.error(
      `no label contains ${o.filters.map((f) => JSON.stringify(f)).join(' or ')}; labels look like ` +
        `${JSON.stringify(all.cells[0]?.label)} or "micro/output, 64 B"\nusage: ${USAGE}`,
    );
    return 2;
  }
  const report: Report = {
    mode: o.quick ? 'quick' : 'full',
    command: o.command,
    machine: ended(),
    budget: b,
    baseline: BASELINE.name,
    headline: head,
    cells: reports,
    refused: all.refused.filter((r) => include(r.label)),
    micro,
    errors,
  };
  const m = report.machine;
  if (head !== null) process.stdout.write(headlineText(head, m, o.quick));
  const files = {
    'results.md': markdown(report),
    'results.json': `${JSON.stringify(report, null, 2)}\n`,
    'chart.svg': chart(
      reports,
      `${o.quick ? 'QUICK RUN, a smoke test: not a measurement · ' : ''}${m.cpu}, ${m.cores} cores · ${m.engine} · ` +
        `${m.date.slice(0, 10)} · load average ${m.load.map((l) => l.toFixed(1)).join(' → ')}`,
    ),
  };
  await mkdir(o.out, { recursive: true });
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(o.out, name), text);
  console.log(
    `results: ${Object.keys(files)
      .map((name) => path.relative(process.cwd(), path.join(o.out, name)))
      .join(', ')}`,
  );
  return errors.length > 0 ? 1 : 0;
}

let options: Options;
try {
  options = parse(process.argv.slice(2));
} catch (error) {
  console.error(`${message(error)}\nusage: ${USAGE}`);
  process.exit(2);
}
const progress = new ProgressLine();
const errors: string[] = [];
let code = 1;
try {
  code = await main(options, progress, errors);
} catch (error) {
  errors.push(error instanceof Error ? (error.stack ?? error.message) : String(error));
} finally {
  progress.done();
}
if (errors.length > 0) console.error(`${errors.length} error(s):\n${errors.map((e) => `  ${e}`).join('\n')}`);
// exit explicitly: a consumer abandoned by a failed run may still hold a timer
process.exit(code);
