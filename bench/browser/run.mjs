// The browser benchmark's entry (npm run bench:browsers): serves page.html
// cross-origin isolated from the repository's root (the library as built
// here, dist/wasm-ringbuf.bundle.js), starts each browser headless on it in a
// fresh profile (Chromium, Firefox, WebKitGTK's MiniBrowser under Xvfb), as
// test/engines does, receives the page's result by POST, ends the browser by
// its process group, and writes bench/results/browsers.md and
// browsers.json. One browser failing puts its error in the files; the others
// still run.
//
//   node bench/browser/run.mjs [--rounds=11] [--ms=400] [--engines=chromium,firefox,webkit] [--out=<dir>]
//
// A progress line goes to stderr, a summary to stdout. Exits 1 when a browser
// failed, 2 on bad arguments.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PAIRS, RECORD_SIZE, RING_BYTES } from './common.mjs';
import { CHROMIUM, EXECUTABLES, FIREFOX, openCommand, stopGroup } from '../../scripts/browsers.mjs';
import { ROOT, startBenchServer } from './server.mjs';

/** Each browser's title, and how its version is read (scripts/browsers.mjs opens it). */
const ENGINES = {
  chromium: {
    title: 'Chromium',
    version: () => execFileSync(CHROMIUM, ['--version'], { encoding: 'utf8', timeout: 10_000 }),
  },
  firefox: {
    title: 'Firefox',
    version: () => execFileSync(FIREFOX, ['--version'], { encoding: 'utf8', timeout: 10_000 }),
  },
  webkit: {
    title: 'WebKitGTK',
    // MiniBrowser has no --version; its user agent's version is frozen
    version: () =>
      `WebKitGTK ${execFileSync('dpkg-query', ['-W', `-f=\${Version}`, 'libwebkit2gtk-4.1-0'], { encoding: 'utf8', timeout: 10_000 })}`,
  },
};

const USAGE = 'node bench/browser/run.mjs [--rounds=11] [--ms=400] [--engines=chromium,firefox,webkit] [--out=<dir>]';

function parse(argv) {
  const o = { rounds: 11, ms: 400, engines: Object.keys(ENGINES), out: path.join(ROOT, 'bench/results') };
  for (const arg of argv) {
    const [key, value] = arg.split('=', 2);
    if (key === '--rounds' && Number.isInteger(Number(value)) && Number(value) >= 1) o.rounds = Number(value);
    else if (key === '--ms' && Number(value) >= 10) o.ms = Number(value);
    else if (key === '--engines' && value) o.engines = value.split(',');
    else if (key === '--out' && value) o.out = path.resolve(value);
    else throw new Error(`bad argument ${JSON.stringify(arg)}`);
  }
  const unknown = o.engines.filter((e) => !(e in ENGINES));
  if (unknown.length > 0) throw new Error(`unknown engine ${unknown.join(', ')}; known: ${Object.keys(ENGINES)}`);
  o.command = ['node bench/browser/run.mjs', ...argv].join(' ');
  return o;
}

const began = performance.now();
const elapsed = () => `${((performance.now() - began) / 1000).toFixed(1).padStart(6)} s`;
const say = (line) => process.stderr.write(`${elapsed()} ${line}\n`);
const load1 = () => os.loadavg()[0];
const tail = (text, max = 4000) => (text.length > max ? `[…]\n${text.slice(-max)}` : text);

/** Starts `command` in a process group of its own, collecting its output. */
function start(command, args, env, cwd) {
  let output = '';
  const child = spawn(command, args, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise((resolve) => {
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  return { child, exited, output: () => output };
}

/** One browser's whole run: { result } or { error }, with its output and load average before and after. */
async function runEngine(name, o) {
  const engine = ENGINES[name];
  const t0 = performance.now();
  const outcome = { name, title: engine.title, executable: EXECUTABLES[name], load: [load1()] };
  const finish = (fields) => ({
    ...outcome,
    ...fields,
    load: [...outcome.load, load1()],
    seconds: (performance.now() - t0) / 1000,
  });
  if (!existsSync(EXECUTABLES[name])) {
    return finish({ error: `${EXECUTABLES[name]} is not installed` });
  }
  try {
    outcome.version = engine.version().trim();
  } catch (err) {
    outcome.version = `unknown (${err.message.split('\n')[0]})`;
  }
  // warm-ups of half a run per side, then two runs per pair and round; allow for slow engines and start-up
  const sides = new Set(PAIRS.flatMap((p) => [p.a, p.b])).size;
  const expectedMs = (sides * o.ms) / 2 + o.rounds * PAIRS.length * 2 * o.ms;
  const limitMs = 3 * expectedMs + 60_000;
  const server = await startBenchServer({ onProgress: (line) => say(`${name} · ${line}`) });
  const profile = mkdtempSync(path.join(os.tmpdir(), `wasm-ringbuf-bench-${name}-`));
  const {
    command,
    args,
    env = {},
    wrapper = false,
  } = openCommand(name, server.pageUrl({ rounds: o.rounds, ms: o.ms }), profile);
  say(`${name} · starting ${command} (up to ${Math.round(limitMs / 1000)} s)`);
  const browser = start(command, args, env, profile);
  let timer;
  try {
    const end = await Promise.race([
      server.result.then((body) => ({ body })),
      browser.exited.then((exit) => ({ exit })),
      new Promise((resolve) => (timer = setTimeout(() => resolve({ timeout: true }), limitMs))),
    ]);
    const output = () => `${tail(browser.output())}\n--- the page's log ---\n${tail(server.log.join('\n'))}`;
    if (end.timeout)
      return finish({ error: `the page reported no result within ${limitMs / 1000} s`, output: output() });
    if (end.exit) {
      const { code, signal, error } = end.exit;
      const why = error ? `did not start: ${error.message}` : `exited (code ${code}, signal ${signal})`;
      return finish({ error: `the browser ${why} before the page reported`, output: output() });
    }
    if (end.body.fatal) return finish({ error: end.body.fatal, output: output() });
    const failed = end.body.pairs.filter((p) => p.error !== null).map((p) => `${p.name}: ${p.error}`);
    return finish({ result: end.body, ...(failed.length > 0 ? { failed, output: output() } : {}) });
  } finally {
    clearTimeout(timer);
    await stopGroup(browser.child, browser.exited, wrapper);
    await server.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

// ---- the report ---------------------------------------------------------------

const times = (v) => (Number.isFinite(v) ? `${v.toFixed(2)}×` : '–');

function rate(n) {
  if (n === null || !Number.isFinite(n)) return '–';
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : `${(n / 1e3).toFixed(0)} k`;
}

function medianOf(values) {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length === 0 ? NaN : sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The browser's product and version from its user agent. */
function product(userAgent) {
  for (const token of ['HeadlessChrome', 'Chrome', 'Firefox', 'Version', 'AppleWebKit']) {
    const m = userAgent?.match(new RegExp(`${token}/[\\d.]+`));
    if (m) return m[0];
  }
  return 'unknown';
}

const table = (head, rows) => [
  `| ${head.join(' | ')} |`,
  `| ${head.map((_, i) => (i === 0 || i === head.length - 1 ? '---' : '---:')).join(' | ')} |`,
  ...rows.map((r) => `| ${r.join(' | ')} |`),
];

function engineSection(e) {
  const lines = [`## ${e.title}`, ''];
  const loadLine = `load average ${e.load.map((l) => l.toFixed(2)).join(' → ')}, ${e.seconds.toFixed(0)} s`;
  if (!e.result) {
    lines.push(`**Failed**: ${e.error}`, '', `\`${e.executable}\` · ${loadLine}`, '');
    if (e.output) lines.push('```', e.output.trim(), '```', '');
    return lines;
  }
  const r = e.result;
  lines.push(
    `${e.version} · user agent \`${r.engine.userAgent}\``,
    '',
    `crossOriginIsolated ${r.engine.crossOriginIsolated} · Atomics.waitAsync ${r.engine.waitAsync ? 'yes' : 'no: poll() sleeps through the library’s stand-in worker'} · hardwareConcurrency ${r.engine.hardwareConcurrency} · \`${e.executable}\` · ${loadLine}`,
    '',
  );
  lines.push(
    ...table(
      ['ratio', 'median', 'min–max', 'rounds', 'A records/s', 'B records/s', 'B'],
      r.pairs.map((p) =>
        p.ratio === null
          ? [p.name, 'failed', '–', p.ratios.length, '–', '–', `${p.error}`]
          : [
              p.name,
              times(p.ratio.median),
              `${times(p.ratio.min)}–${times(p.ratio.max)}`,
              p.ratio.n,
              rate(p.a.recordsPerSec),
              rate(p.b.recordsPerSec),
              p.detail,
            ],
      ),
    ),
    '',
  );
  const sides = new Map();
  for (const p of r.pairs) {
    for (const part of [p.a, p.b]) {
      const seen = sides.get(part.side);
      if (seen) seen.runs.push(...part.runs);
      else sides.set(part.side, { ...part, runs: [...part.runs] });
    }
  }
  lines.push(
    ...table(
      ['side', 'runs', 'records/s', 'records checked', 'drops/run', 'wakeups/record', 'how'],
      [...sides.values()].map((s) => {
        const wakeups = s.runs.map((x) => (x.wakeups === null ? NaN : x.wakeups / Math.max(1, x.records)));
        return [
          s.contender + (s.side === 'ringNoWakeup' ? ' NO_WAKEUP' : ''),
          s.runs.length,
          rate(medianOf(s.runs.map((x) => x.rate))),
          s.runs.reduce((sum, x) => sum + x.records, 0).toLocaleString('en-US'),
          medianOf(s.runs.map((x) => x.drops)).toFixed(0),
          wakeups.some(Number.isFinite) ? medianOf(wakeups).toPrecision(2) : '–',
          s.about,
        ];
      }),
    ),
    '',
  );
  if (e.failed) lines.push(`Errors: ${e.failed.join('; ')}`, '', '```', e.output.trim(), '```', '');
  return lines;
}

function markdown(report) {
  const m = report.machine;
  const lines = [
    '# wasm-ringbuf in the browsers',
    '',
    `${m.cpu}, ${m.cores} cores · ${m.platform} · Node ${m.node} (the runner) · ${report.date} · load average ${report.load.map((l) => l.toFixed(2)).join(' → ')}`,
    '',
    `Command: \`${report.command}\` (the package as built in this checkout, \`dist/wasm-ringbuf.bundle.js\`; ${report.rounds} rounds of ${report.runMs} ms runs). Generated by bench/browser/run.mjs; edit nothing here by hand.`,
    '',
    `Each browser is started headless on bench/browser/page.html, served cross-origin isolated (COOP/COEP), in a fresh profile, one after the other; the page measures and POSTs its result. One module-worker producer writes ${RECORD_SIZE} B records as fast as it can (no room: sleep 50 µs, try again, a drop), and the page's main thread checks every record (producer id, sequence number). **wasm-ringbuf** is the README's path: \`rb.reserve(64)\` → \`r.data.set(bytes)\` → \`r.submit()\`, the consumer looping on \`await consumer.poll()\`. **postMessage ×64**: the worker packs 64 records in an ArrayBuffer and transfers it with its own \`postMessage\` (a transferred MessagePort would deliver nothing in Firefox until the worker returns to its event loop); at most a ring's worth of records in flight. **ringbuf.js** and **NO_WAKEUP**: the consumer drains, sleeping 1 ms (\`setTimeout\`) when it finds nothing. Every side gets ${RING_BYTES / 1024} KiB of buffering. The ratios are taken as bench/headline.ts takes them: one uncounted half-length run of each side, then rounds that run a ratio's two sides back to back (A B, then B A), a ratio per round; the median of those, their min–max, and the median records/s of each side. A run lasts from the start barrier to the last record. Ratios compare within one page in one run; records/s move with the machine's load.`,
    '',
  ];
  for (const e of report.engines) lines.push(...engineSection(e));
  return `${lines.join('\n').trimEnd()}\n`;
}

function summary(report) {
  const lines = [];
  for (const e of report.engines) {
    if (!e.result) {
      lines.push(`${e.name}: failed: ${e.error.split('\n')[0]}`);
      continue;
    }
    const parts = e.result.pairs.map((p) =>
      p.ratio === null
        ? `${p.name} failed`
        : `${p.name} ${times(p.ratio.median)} (${times(p.ratio.min)}–${times(p.ratio.max)}; ${rate(p.a.recordsPerSec)}/s vs ${rate(p.b.recordsPerSec)}/s)`,
    );
    lines.push(`${e.name} (${e.version}; ${product(e.result.engine.userAgent)}):`, ...parts.map((p) => `  ${p}`));
  }
  return `${lines.join('\n')}\n`;
}

let options;
try {
  options = parse(process.argv.slice(2));
} catch (err) {
  console.error(`${err.message}\nusage: ${USAGE}`);
  process.exit(2);
}

const cpus = os.cpus();
const report = {
  command: options.command,
  date: new Date().toISOString(),
  machine: {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
  },
  load: [load1()],
  rounds: options.rounds,
  runMs: options.ms,
  recordSize: RECORD_SIZE,
  ringBytes: RING_BYTES,
  engines: [],
};
say(
  `load average ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
for (const name of options.engines) {
  let outcome;
  try {
    outcome = await runEngine(name, options);
  } catch (err) {
    outcome = {
      name,
      title: ENGINES[name].title,
      executable: EXECUTABLES[name],
      load: [load1(), load1()],
      seconds: 0,
      error: `the runner failed: ${err?.stack ?? err}`,
    };
  }
  say(
    `${name} · ${outcome.result ? 'done' : `failed: ${outcome.error.split('\n')[0]}`} (${outcome.seconds.toFixed(1)} s)`,
  );
  report.engines.push(outcome);
}
report.load.push(load1());
await mkdir(options.out, { recursive: true });
const files = { 'browsers.md': markdown(report), 'browsers.json': `${JSON.stringify(report, null, 2)}\n` };
for (const [file, text] of Object.entries(files)) await writeFile(path.join(options.out, file), text);
process.stdout.write(summary(report));
console.log(
  `load average ${report.load.map((l) => l.toFixed(2)).join(' → ')}; results: ${Object.keys(files)
    .map((f) => path.relative(process.cwd(), path.join(options.out, f)))
    .join(', ')}`,
);
process.exit(report.engines.some((e) => !e.result || e.failed) ? 1 : 0);
