// The measurements beside the throughput matrix of run.ts: wakeup latency,
// allocation per record, burst absorption, back-to-back batches and
// producers contending with no consumer beside them. The
// plain-JavaScript twin is measured by run.ts (contender `js-twin raw lock`,
// micro-benchmarks `… (js-twin)`).
//
//   node build/bench/extras.js [--quick] [--only=latency,alloc,burst,b2b,contention] [--out=<dir>]
//
// Prints Markdown tables, draws a progress line on stderr, and writes
// extras.json and extras.md into --out (default bench/results/, or
// bench/results/quick/ with --quick, whose outputs say at the top that they
// are a smoke test). Exits 1 when a measurement failed, 2 on bad arguments.

import os from 'node:os';
import { QUICK_NOTICE, entry, parseArgs, writeResults } from './cli.js';
import { runAllocation } from './extras/alloc.js';
import { runBackToBack } from './extras/b2b.js';
import { runBurstAbsorption } from './extras/burst.js';
import { runContention } from './extras/contention.js';
import { runWakeupLatency } from './extras/latency.js';
import { extrasMarkdown, type ExtrasReport } from './extras/markdown.js';
import { machine } from './report.js';

const USAGE = 'node build/bench/extras.js [--quick] [--only=latency,alloc,burst,b2b,contention] [--out=<dir>]';
const SECTIONS = ['latency', 'alloc', 'burst', 'b2b', 'contention'] as const;
type Section = (typeof SECTIONS)[number];

function parse(argv: readonly string[]) {
  let only = new Set<Section>(SECTIONS);
  const common = parseArgs('extras.js', argv, {
    '--only': (value) => {
      const names = value.split(',').filter((s) => s !== '');
      if (names.includes('twin')) throw new Error('the JS twin is measured by run.js: use node build/bench/run.js --filter=js-twin');
      for (const n of names) if (!(SECTIONS as readonly string[]).includes(n)) throw new Error(`unknown section ${JSON.stringify(n)}; use ${SECTIONS.join(', ')}`);
      only = new Set(names as Section[]);
    },
  });
  return { ...common, only };
}

await entry(USAGE, parse, async ({ quick, only, out, command }, progress, errors) => {
  const host = machine();
  const report: ExtrasReport = {
    notice: quick ? QUICK_NOTICE : null,
    machine: host,
    mode: quick ? 'quick' : 'full',
    command,
    latency: null, allocation: null, burst: null, backToBack: null, contention: null,
    errors,
  };
  const step = async <T>(section: Section, run: () => Promise<T>): Promise<T | null> => {
    if (!only.has(section)) return null;
    try {
      return await run();
    } catch (error) {
      errors.push(`${section}: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
      return null;
    }
  };
  const o = { quick, progress: progress.show };
  report.latency = await step('latency', () => runWakeupLatency(o));
  report.allocation = await step('alloc', () => runAllocation(o));
  report.burst = await step('burst', () => runBurstAbsorption(o));
  report.backToBack = await step('b2b', () => runBackToBack(o, errors));
  report.contention = await step('contention', () => runContention(o));
  progress.done();
  report.machine = { ...host, load: [...host.load, os.loadavg()[0]!] };
  const md = extrasMarkdown(report);
  process.stdout.write(md);
  await writeResults(out, { 'extras.json': `${JSON.stringify(report, null, 2)}\n`, 'extras.md': md });
  return errors.length > 0 ? 1 : 0;
});
