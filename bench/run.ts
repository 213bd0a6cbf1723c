// The benchmark harness: every scenario × contender cell, then the report.
//
//   node build/bench/run.js [--quick] [--filter=<substring>[,<substring>...]] [--out=<dir>]
//
// --quick     one short run per cell of a reduced matrix (a smoke test: it
//             fails only when a contender errs, never on timing)
// --filter    run only the cells whose label (scenario/contender/Np/SizeB/wakeup,
//             or micro/<operation>) contains one of the substrings
// --out       where results.md, results.json and chart.svg go
//             (default bench/results/, or bench/results/quick/ with --quick)
//
// Exits 1 when any contender erred, 2 on bad arguments.

import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chart } from './chart.js';
import { BASELINE, contenders } from './contenders/index.js';
import { runMicro, type MicroResult } from './micro.js';
import { addRatios, headline, machine, markdown, type Report } from './report.js';
import { budget, matrix, runCells, scenarios } from './scenarios.js';

interface Options {
  quick: boolean;
  filters: string[];
  out: string;
}

const USAGE = 'usage: node build/bench/run.js [--quick] [--filter=<substring>[,<substring>...]] [--out=<dir>]';
const RESULTS = fileURLToPath(new URL('../../bench/results/', import.meta.url));

function parse(argv: readonly string[]): Options {
  let quick = false;
  let filters: string[] = [];
  let out: string | null = null;
  for (const arg of argv) {
    if (arg === '--quick') quick = true;
    else if (arg.startsWith('--filter=')) filters = arg.slice('--filter='.length).split(',').filter((f) => f !== '');
    else if (arg.startsWith('--out=') && arg.length > '--out='.length) out = path.resolve(arg.slice('--out='.length));
    else throw new Error(`unknown argument ${JSON.stringify(arg)}`);
  }
  return { quick, filters, out: out ?? path.join(RESULTS, quick ? 'quick' : '.') };
}

/** The live progress line on stderr: rewritten in place on a terminal, one line per step elsewhere. */
class Progress {
  readonly #tty = process.stderr.isTTY === true;
  readonly #t0 = performance.now();
  #text = '';
  #timer: ReturnType<typeof setInterval> | undefined;

  show(text: string): void {
    this.#text = text;
    if (this.#tty) {
      this.#draw();
      this.#timer ??= setInterval(() => this.#draw(), 250).unref();
    } else {
      process.stderr.write(`${this.#elapsed()} ${text}\n`);
    }
  }

  done(): void {
    clearInterval(this.#timer);
    if (this.#tty) process.stderr.write('\r\x1b[2K');
  }

  #elapsed(): string {
    return `${((performance.now() - this.#t0) / 1000).toFixed(1).padStart(6)} s`;
  }

  #draw(): void {
    const line = `${this.#elapsed()} ${this.#text}`;
    process.stderr.write(`\r\x1b[2K${line.slice(0, (process.stderr.columns || 120) - 1)}`);
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function main(argv: readonly string[]): Promise<number> {
  let options: Options;
  try {
    options = parse(argv);
  } catch (error) {
    console.error(`${message(error)}\n${USAGE}`);
    return 2;
  }
  const include = (label: string): boolean => options.filters.length === 0 || options.filters.some((f) => label.includes(f));
  const all = matrix(contenders, options.quick);
  const cells = all.cells.filter((c) => include(c.label));
  const b = budget(options.quick);
  const host = machine();
  const progress = new Progress();
  const errors: string[] = [];

  let micro: MicroResult[] = [];
  try {
    micro = await runMicro(options.quick, (name) => include(`micro/${name}`), (name) => progress.show(`micro · ${name}`));
  } catch (error) {
    errors.push(`micro: ${message(error)}`);
  }

  const reports = await runCells(cells, b.runs, (text) => progress.show(text), errors);
  progress.done();
  if (reports.length === 0 && micro.length === 0 && errors.length === 0) {
    console.error(`no benchmark label contains ${options.filters.map((f) => JSON.stringify(f)).join(' or ')}; labels look like ` +
      `${JSON.stringify(all.cells[0]?.label)} or "micro/output, 64 B"\n${USAGE}`);
    return 2;
  }

  addRatios(reports, BASELINE);
  const report: Report = {
    machine: { ...host, load: [...host.load, os.loadavg()[0]!] },
    mode: options.quick ? 'quick' : 'full',
    command: ['node build/bench/run.js', ...argv.map((a) => (/[\s"']/.test(a) ? JSON.stringify(a) : a))].join(' '),
    budget: b,
    baseline: BASELINE,
    headline: headline(reports, micro),
    cells: reports,
    refused: all.refused.filter((r) => include(r.label)),
    micro,
    errors,
  };
  const md = markdown(report, scenarios);
  await mkdir(options.out, { recursive: true });
  await writeFile(path.join(options.out, 'results.md'), md);
  await writeFile(path.join(options.out, 'results.json'), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(path.join(options.out, 'chart.svg'), chart(reports, `wasm-ringbuf · ${report.machine.cpu} · ${report.machine.cores} cores · Node ${report.machine.node}`));
  process.stdout.write(md);
  console.error(`results: ${path.join(options.out, 'results.{md,json}')}, ${path.join(options.out, 'chart.svg')}`);
  if (errors.length > 0) console.error(`${errors.length} error(s):\n${errors.map((e) => `  ${e}`).join('\n')}`);
  return errors.length > 0 ? 1 : 0;
}

// exit explicitly: a consumer abandoned by a failed run may still hold a timer
process.exit(await main(process.argv.slice(2)));
