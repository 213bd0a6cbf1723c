#!/usr/bin/env node
// The logging pipeline against pino's usual transport path, with the same
// workers logging the same lines to a file:
//
//   ring   N workers → one wasm-ringbuf ring → one consumer → sonic-boom → file   (pipeline.mjs)
//   pino   N workers, each with pino(pino.transport({ target: 'pino/file' })): a thread-stream
//          worker per logger writing through its own sonic-boom, one file per worker (several
//          transports appending to one file interleaved lines mid-line when this was tried)
//
// Time: from the start barrier (every logger ready) until the last line is in
// the file and the file is closed. Both files are read back and checked
// (every line, each worker's order). Rounds alternate which contender goes
// first; the ratio is taken within each round, and the median reported.
//
//   node examples/node/logging/bench.mjs [--workers=4] [--lines=50000] [--rounds=3] [--json=<file>]
import { cpus, loadavg } from 'node:os';
import { rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runPipeline, startWorkers } from './pipeline.mjs';
import { verifyLog } from './verify.mjs';

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

async function runPino({ workers, lines, file }) {
  for (let w = 0; w < workers; w++) rmSync(`${file}.${w}`, { force: true });
  const run = await startWorkers({ via: 'pino', workers, lines, file });
  await run.done;
  const ms = performance.now() - run.started;
  return { ms, linesPerSecond: ((workers * lines) / ms) * 1000 };
}

/** One round of each contender, checked; resolves with lines/s of each and their ratio. */
async function round({ workers, lines, dir }, pinoFirst) {
  const ringFile = `${dir}/ring.ndjson`;
  const pinoFile = `${dir}/pino.ndjson`;
  const out = {};
  const contenders = [
    [
      'ring',
      async () => {
        const r = await runPipeline({ workers, lines, file: ringFile });
        if (r.lost !== 0)
          throw new Error(`the ring pipeline lost ${r.lost} lines (it waits for room: it must lose none)`);
        return { ms: r.ms, linesPerSecond: r.linesPerSecond, fileWaits: r.fileWaits, roomWaits: r.roomWaits };
      },
    ],
    ['pino', () => runPino({ workers, lines, file: pinoFile })],
  ];
  if (pinoFirst) contenders.reverse();
  for (const [name, run] of contenders) out[name] = await run();
  const check = (name, file, expected) => {
    const v = verifyLog(file, { workers, lines });
    if (v.lines !== expected || v.gaps !== workers * lines - expected)
      throw new Error(`${name}: ${v.lines} lines, ${expected} expected`);
  };
  check('ring', ringFile, workers * lines);
  for (let w = 0; w < workers; w++) check('pino', `${pinoFile}.${w}`, lines); // the other workers' lines count as gaps there
  return { ...out, ratio: out.ring.linesPerSecond / out.pino.linesPerSecond };
}

export async function bench({ workers = 4, lines = 50_000, rounds = 3, dir = 'build/logging' } = {}) {
  const results = [];
  for (let i = 0; i < rounds; i++) results.push(await round({ workers, lines, dir }, i % 2 === 1));
  return {
    workers,
    lines,
    rounds: results,
    ring: median(results.map((r) => r.ring.linesPerSecond)),
    pino: median(results.map((r) => r.pino.linesPerSecond)),
    ratio: median(results.map((r) => r.ratio)),
    machine: `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.versions.node}, load average ${loadavg()[0].toFixed(1)}`,
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (name, fallback) => {
    const a = process.argv.find((x) => x.startsWith(`--${name}=`));
    return a ? a.slice(name.length + 3) : fallback;
  };
  const r = await bench({
    workers: Number(arg('workers', 4)),
    lines: Number(arg('lines', 50_000)),
    rounds: Number(arg('rounds', 3)),
  });
  const fmt = (n) => Math.round(n).toLocaleString('en-US');
  console.log(`${r.workers} workers × ${fmt(r.lines)} lines, ${r.rounds.length} rounds (${r.machine})\n`);
  console.log('| round | ring → sonic-boom, lines/s | pino → thread-stream → pino/file, lines/s | ring ÷ pino |');
  console.log('| ---: | ---: | ---: | ---: |');
  r.rounds.forEach((x, i) =>
    console.log(`| ${i + 1} | ${fmt(x.ring.linesPerSecond)} | ${fmt(x.pino.linesPerSecond)} | ${x.ratio.toFixed(2)} |`),
  );
  console.log(`| median | ${fmt(r.ring)} | ${fmt(r.pino)} | ${r.ratio.toFixed(2)} |`);
  const json = arg('json', '');
  if (json) writeFileSync(json, `${JSON.stringify(r, null, 2)}\n`);
}
