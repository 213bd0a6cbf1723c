// The user-level suite (suite.mjs) in six engines, on the packed package:
// `npm pack`, the tarball installed into an empty project, the suite's files
// copied beside it. Node, Deno and Bun run run.mjs; Chromium, Firefox and
// WebKitGTK load page.html from the project, served cross-origin isolated by
// server.mjs, and the page POSTs its result back; each browser is started
// headless on the URL and ended by its process group. Each engine × case is
// one test here, and each engine's line in the log names the file it ran, its
// counts and its time.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, FIREFOX, MINIBROWSER, openCommand, stopGroup } from '../../scripts/browsers.mjs';
import { startEngineServer } from './server.mjs';
import { CASES } from './suite.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const here = fileURLToPath(new URL('.', import.meta.url));
const bin = (name: string) => join(root, 'node_modules/.bin', name);

/** The files of the suite that go into the project beside the installed package. */
const SUITE_FILES = ['suite.mjs', 'records.mjs', 'workers.mjs', 'producer.mjs', 'run.mjs', 'page.html'];

/** An engine's whole run: well under a minute each; past this it is killed and its cases fail. */
const ENGINE_LIMIT_MS = 90_000;

interface CaseResult {
  name: string;
  ok: boolean;
  ms: number;
  error: string | null;
}
interface SuiteResult {
  file: string;
  engine: {
    userAgent: string | null;
    versions: Record<string, string> | null;
    sharedArrayBuffer: boolean;
    waitAsync: boolean;
  };
  results: CaseResult[];
}
interface Outcome {
  result?: SuiteResult;
  /** Why the engine gave no usable result (it did not start, crashed, hung, or exited wrongly). */
  error?: string;
  /** Its own output: stdout and stderr, a browser's page log. */
  output: string;
  seconds: number;
}

const dir = mkdtempSync(join(tmpdir(), 'wasm-ringbuf-engines-'));
const app = join(dir, 'app');
let packError: string | undefined;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(() => {
  try {
    // --ignore-scripts: `npm test` has built already (prepack would build again)
    const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], {
      cwd: root,
      encoding: 'utf8',
    });
    const [{ filename }] = JSON.parse(out) as [{ filename: string }];
    mkdirSync(app, { recursive: true });
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    const install = spawnSync('npm', ['install', join(dir, filename), '--no-audit', '--no-fund', '--prefer-offline'], {
      cwd: app,
      encoding: 'utf8',
    });
    if (install.status !== 0) throw new Error(`npm install of the tarball failed:\n${install.stdout}${install.stderr}`);
    for (const file of SUITE_FILES) copyFileSync(join(here, file), join(app, file));
  } catch (err) {
    packError = `packing and installing the package failed: ${(err as Error).stack ?? err}`;
  }
}, 120_000);

/** Output kept for a failure message: the end, where the reason usually is. */
const tail = (text: string, max = 6000) => (text.length > max ? `[…]\n${text.slice(-max)}` : text);

function start(command: string, args: string[], env: Record<string, string>, cwd: string) {
  let output = '';
  const child = spawn(command, args, {
    cwd,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stdout = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk;
    output += chunk;
  });
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk));
  const exited = new Promise<{ code: number | null; signal: string | null; error?: Error }>((resolve) => {
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  return { child, exited, output: () => output, stdout: () => stdout };
}

function deadline(ms: number) {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)));
  return { promise, clear: () => clearTimeout(timer) };
}

/** Node, Deno or Bun: `command args run.mjs` in the project; the result is the JSON line after the marker. */
async function runScript(command: string, args: string[], env: Record<string, string> = {}): Promise<Outcome> {
  const began = performance.now();
  const run = start(command, [...args, 'run.mjs'], env, app);
  const limit = deadline(ENGINE_LIMIT_MS);
  const end = await Promise.race([run.exited, limit.promise]);
  limit.clear();
  if (end === 'timeout') await stopGroup(run.child, run.exited);
  const seconds = (performance.now() - began) / 1000;
  const output = run.output();
  if (end === 'timeout') return { error: `no result within ${ENGINE_LIMIT_MS / 1000} s: killed`, output, seconds };
  if (end.error) return { error: `${command} did not start: ${end.error.message}`, output, seconds };
  const line = run
    .stdout()
    .split('\n')
    .find((l) => l.startsWith('ENGINE-RESULT '));
  if (line === undefined) {
    return { error: `exited (code ${end.code}, signal ${end.signal}) without a result`, output, seconds };
  }
  const result = JSON.parse(line.slice('ENGINE-RESULT '.length)) as SuiteResult;
  const expected = result.results.every((r) => r.ok) ? 0 : 1;
  if (end.code !== expected) {
    return { result, error: `exited with code ${end.code} (signal ${end.signal}), not ${expected}`, output, seconds };
  }
  return { result, output, seconds };
}

/** A browser: `launch(url, profile)` gives the command that opens the page in a fresh profile. */
async function runBrowser(
  executable: string,
  launch: (
    url: string,
    profile: string,
  ) => { command: string; args: string[]; env?: Record<string, string>; wrapper?: boolean },
): Promise<Outcome> {
  const began = performance.now();
  if (!existsSync(executable)) {
    return {
      error:
        `${executable} is not installed: .ci/run installs it (` +
        '`apt-get install -y --no-install-recommends chromium firefox-esr webkit2gtk-driver xvfb xauth`)',
      output: '',
      seconds: 0,
    };
  }
  const server = await startEngineServer(app);
  const profile = mkdtempSync(join(dir, 'profile-'));
  const { command, args, env = {}, wrapper = false } = launch(`${server.url}page.html`, profile);
  const run = start(command, args, env, profile);
  const limit = deadline(ENGINE_LIMIT_MS);
  try {
    const end = await Promise.race([
      server.result.then((body: unknown) => ({ body })),
      run.exited.then((exit) => ({ exit })),
      limit.promise,
    ]);
    const seconds = (performance.now() - began) / 1000;
    const output = () =>
      `--- the browser's output ---\n${tail(run.output())}\n--- the page's log ---\n${server.log.join('\n')}`;
    if (end === 'timeout') {
      return { error: `the page reported no result within ${ENGINE_LIMIT_MS / 1000} s`, output: output(), seconds };
    }
    if ('exit' in end) {
      const { code, signal, error } = end.exit;
      const why = error ? `did not start: ${error.message}` : `exited (code ${code}, signal ${signal})`;
      return { error: `the browser ${why} before the page reported`, output: output(), seconds };
    }
    const body = end.body as SuiteResult | { fatal: string };
    if ('fatal' in body) return { error: body.fatal, output: output(), seconds };
    return { result: body, output: output(), seconds };
  } finally {
    limit.clear();
    await stopGroup(run.child, run.exited, wrapper);
    await server.close();
  }
}

const ENGINES: { name: string; run: () => Promise<Outcome> }[] = [
  { name: 'node', run: () => runScript(process.execPath, []) },
  {
    name: 'deno',
    run: () => runScript(bin('deno'), ['run', '-A'], { DENO_DIR: join(dir, 'deno-dir'), DENO_NO_UPDATE_CHECK: '1' }),
  },
  { name: 'bun', run: () => runScript(bin('bun'), []) },
  { name: 'chromium', run: () => runBrowser(CHROMIUM, (url, profile) => openCommand('chromium', url, profile)) },
  { name: 'firefox', run: () => runBrowser(FIREFOX, (url, profile) => openCommand('firefox', url, profile)) },
  {
    name: 'webkit',
    run: () =>
      runBrowser(MINIBROWSER, (url, profile) =>
        openCommand('webkit', url, profile, ['--enable-write-console-messages-to-stdout=true']),
      ),
  },
];

/** The engine's product token, and what it lacks of what the package uses. */
function version(result: SuiteResult | undefined): string {
  if (!result) return '';
  const { userAgent, versions, sharedArrayBuffer, waitAsync } = result.engine;
  const lacks = [!sharedArrayBuffer && 'no SharedArrayBuffer', !waitAsync && 'no Atomics.waitAsync'].filter(Boolean);
  for (const token of ['HeadlessChrome', 'Chrome', 'Firefox', 'Deno', 'Bun', 'AppleWebKit']) {
    const product = userAgent?.match(new RegExp(`${token}/[\\d.]+`));
    if (product) return [product[0], ...lacks].join(', ');
  }
  return [versions?.node ? `Node/${versions.node}` : 'unknown', ...lacks].join(', ');
}

for (const engine of ENGINES) {
  describe(engine.name, () => {
    let outcome: Outcome = { error: 'the engine was not run', output: '', seconds: 0 };

    beforeAll(async () => {
      outcome = packError !== undefined ? { error: packError, output: '', seconds: 0 } : await engine.run();
      const results = outcome.result?.results ?? [];
      const passed = results.filter((r) => r.ok).length;
      const failed = CASES.length - passed;
      const file = outcome.result?.file ?? 'suite.mjs (no result)';
      console.log(
        `engines: ${engine.name} ${file} ${passed} passed, ${failed} failed, ${outcome.seconds.toFixed(1)} s` +
          `${outcome.result ? ` (${version(outcome.result)})` : ''}${outcome.error ? `: ${outcome.error.split('\n')[0]}` : ''}`,
      );
    }, ENGINE_LIMIT_MS + 30_000);

    for (const { name } of CASES) {
      it(name, () => {
        const got = outcome.result?.results.find((r) => r.name === name);
        const why = outcome.error ?? (got === undefined ? 'the suite did not report this case' : got.error);
        const message = `${engine.name}: ${why}\n--- ${engine.name}'s own output ---\n${tail(outcome.output)}`;
        expect(outcome.error === undefined && got?.ok === true, message).toBe(true);
      });
    }
  });
}
