// The measurements beside the throughput matrix of run.ts: wakeup latency,
// allocation per record, burst absorption and back-to-back batches. The
// plain-JavaScript twin is measured by run.ts (contender `js-twin raw lock`,
// micro-benchmarks `… (js-twin)`).
//
//   node build/bench/extras.js [--quick] [--only=latency,alloc,burst,b2b]
//
// Prints Markdown tables, draws a progress line on stderr, and writes
// bench/results/extras.json and extras.md (bench/results/quick/ with --quick).
// Exits 1 when a measurement failed, 2 on bad arguments.

import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runAllocation } from './extras/alloc.js';
import { runBackToBack } from './extras/b2b.js';
import { runBurstAbsorption } from './extras/burst.js';
import { runWakeupLatency } from './extras/latency.js';
import { extrasMarkdown, type ExtrasReport } from './extras/markdown.js';
import { machine } from './report.js';

const USAGE = 'usage: node build/bench/extras.js [--quick] [--only=latency,alloc,burst,b2b]';
const RESULTS = fileURLToPath(new URL('../../bench/results/', import.meta.url));
const SECTIONS = ['latency', 'alloc', 'burst', 'b2b'] as const;
type Section = (typeof SECTIONS)[number];

function parse(argv: readonly string[]): { quick: boolean; only: Set<Section> } {
  let quick = false;
  let only = new Set<Section>(SECTIONS);
  for (const arg of argv) {
    if (arg === '--quick') quick = true;
    else if (arg.startsWith('--only=')) {
      const names = arg.slice('--only='.length).split(',').filter((s) => s !== '');
      if (names.includes('twin')) throw new Error('the JS twin is measured by run.js: use node build/bench/run.js --filter=js-twin');
      for (const n of names) if (!(SECTIONS as readonly string[]).includes(n)) throw new Error(`unknown section ${JSON.stringify(n)}; use ${SECTIONS.join(', ')}`);
      only = new Set(names as Section[]);
    } else throw new Error(`unknown argument ${JSON.stringify(arg)}`);
  }
  return { quick, only };
}

/** The progress line on stderr: rewritten in place on a terminal, one line per step elsewhere. */
function progressLine(): { show: (text: string) => void; done: () => void } {
  const tty = process.stderr.isTTY === true;
  const t0 = performance.now();
  let text = '';
  let timer: ReturnType<typeof setInterval> | undefined;
  const elapsed = (): string => `${((performance.now() - t0) / 1000).toFixed(1).padStart(6)} s`;
  const draw = (): void => {
    process.stderr.write(`\r\x1b[2K${`${elapsed()} ${text}`.slice(0, (process.stderr.columns || 120) - 1)}`);
  };
  return {
    show(t) {
      text = t;
      if (!tty) {
        process.stderr.write(`${elapsed()} ${t}\n`);
        return;
      }
      draw();
      timer ??= setInterval(draw, 250).unref();
    },
    done() {
      clearInterval(timer);
      if (tty) process.stderr.write('\r\x1b[2K');
    },
  };
}

async function main(argv: readonly string[]): Promise<number> {
  let options: ReturnType<typeof parse>;
  try {
    options = parse(argv);
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    return 2;
  }
  const { quick, only } = options;
  const progress = progressLine();
  const host = machine();
  const report: ExtrasReport = {
    machine: host,
    mode: quick ? 'quick' : 'full',
    command: ['node build/bench/extras.js', ...argv].join(' '),
    latency: null, allocation: null, burst: null, backToBack: null,
    errors: [],
  };
  const step = async <T>(section: Section, run: () => Promise<T>): Promise<T | null> => {
    if (!only.has(section)) return null;
    try {
      return await run();
    } catch (error) {
      report.errors.push(`${section}: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
      return null;
    }
  };
  const o = { quick, progress: progress.show };
  report.latency = await step('latency', () => runWakeupLatency(o));
  report.allocation = await step('alloc', () => runAllocation(o));
  report.burst = await step('burst', () => runBurstAbsorption(o));
  report.backToBack = await step('b2b', () => runBackToBack(o, report.errors));
  progress.done();
  report.machine = { ...host, load: [...host.load, os.loadavg()[0]!] };

  const out = path.join(RESULTS, quick ? 'quick' : '.');
  const md = extrasMarkdown(report);
  await mkdir(out, { recursive: true });
  await writeFile(path.join(out, 'extras.json'), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(path.join(out, 'extras.md'), md);
  process.stdout.write(md);
  console.error(`results: ${path.join(out, 'extras.{md,json}')}`);
  if (report.errors.length > 0) console.error(`${report.errors.length} error(s):\n${report.errors.map((e) => `  ${e}`).join('\n')}`);
  return report.errors.length > 0 ? 1 : 0;
}

// exit explicitly: a consumer abandoned by a failed measurement may still hold a timer
process.exit(await main(process.argv.slice(2)));
