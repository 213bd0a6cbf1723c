// What the two entries (run.ts, extras.ts) share: arguments, the progress
// line on stderr, the quick-run notice, writing the result files, exit codes.

import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Said at the top of every output of a `--quick` run. */
export const QUICK_NOTICE =
  'Quick run (--quick): a smoke test, not a measurement. One short run per cell of a reduced set; ' +
  'these figures are not comparable with a full run\'s (bench/results/).';

/** The live progress line on stderr: rewritten in place on a terminal, one line per step elsewhere. */
export class Progress {
  readonly #tty = process.stderr.isTTY === true;
  readonly #t0 = performance.now();
  #text = '';
  #timer: ReturnType<typeof setInterval> | undefined;

  readonly show = (text: string): void => {
    this.#text = text;
    if (this.#tty) {
      this.#draw();
      this.#timer ??= setInterval(() => this.#draw(), 250).unref();
    } else {
      process.stderr.write(`${this.#elapsed()} ${text}\n`);
    }
  };

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

export function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The options both entries take: `--quick` and `--out=<dir>` (default bench/results/, or bench/results/quick/). */
export interface CommonOptions {
  quick: boolean;
  out: string;
  /** The command line, for the report. */
  command: string;
}

const RESULTS = fileURLToPath(new URL('../../bench/results/', import.meta.url));

/** Parses `--quick`, `--out=` and the `--name=value` options of `named`; throws on anything else. */
export function parseArgs(entry: string, argv: readonly string[], named: Record<string, (value: string) => void>): CommonOptions {
  let quick = false;
  let out: string | null = null;
  for (const arg of argv) {
    const eq = arg.indexOf('=');
    const handler = eq > 0 ? named[arg.slice(0, eq)] : undefined;
    if (arg === '--quick') quick = true;
    else if (arg.startsWith('--out=') && arg.length > '--out='.length) out = path.resolve(arg.slice('--out='.length));
    else if (handler !== undefined) handler(arg.slice(eq + 1));
    else throw new Error(`unknown argument ${JSON.stringify(arg)}`);
  }
  const command = [`node build/bench/${entry}`, ...argv.map((a) => (/[\s"']/.test(a) ? JSON.stringify(a) : a))].join(' ');
  return { quick, out: out ?? path.join(RESULTS, quick ? 'quick' : '.'), command };
}

/** Writes `files` (name → contents) into `dir` and says where on stderr. */
export async function writeResults(dir: string, files: Record<string, string>): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
  console.error(`results: ${Object.keys(files).map((name) => path.join(dir, name)).join(', ')}`);
}

/**
 * Runs an entry: `parse` the arguments (exit 2 with `usage` when they are
 * wrong), then `run` with the progress line; exits with what `run` returns
 * (1 when something failed), after listing `errors`.
 */
export async function entry<T>(usage: string, parse: (argv: readonly string[]) => T, run: (options: T, progress: Progress, errors: string[]) => Promise<number>): Promise<never> {
  let options: T;
  try {
    options = parse(process.argv.slice(2));
  } catch (error) {
    console.error(`${message(error)}\nusage: ${usage}`);
    process.exit(2);
  }
  const progress = new Progress();
  const errors: string[] = [];
  let code: number;
  try {
    code = await run(options, progress, errors);
  } finally {
    progress.done();
  }
  if (errors.length > 0) console.error(`${errors.length} error(s):\n${errors.map((e) => `  ${e}`).join('\n')}`);
  // exit explicitly: a consumer abandoned by a failed run may still hold a timer
  process.exit(code);
}
