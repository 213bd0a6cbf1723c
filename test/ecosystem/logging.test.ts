// The logging pipeline of examples/node/logging end to end: real
// worker_threads, a real file through sonic-boom, every line read back; the
// backpressure from the file to the producers; losses reported in the file
// and in total; the benchmark against pino's transport path, run small.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { runPipeline } from '../../examples/node/logging/pipeline.mjs';
import { verifyLog } from '../../examples/node/logging/verify.mjs';
import { bench } from '../../examples/node/logging/bench.mjs';

const dir = mkdtempSync(join(tmpdir(), 'wasm-ringbuf-logging-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the logging pipeline (examples/node/logging)', () => {
  it("writes every line of every worker, in each worker's order, as NDJSON; a full file holds the producers back", async () => {
    const file = join(dir, 'wait.ndjson');
    // the consumer starts late: the ring fills and the producers wait for room; its first pass
    // then hands sonic-boom more than its high-water mark, and it waits for 'drain'
    const r = await runPipeline({ workers: 3, lines: 4000, file, ringSize: 1 << 16, consumerDelayMs: 100 });
    const v = verifyLog(file, { workers: 3, lines: 4000 });
    expect(v).toMatchObject({ lines: 12_000, perWorker: [4000, 4000, 4000], gaps: 0, lossLines: 0 });
    expect(r).toMatchObject({ written: 12_000, lost: 0, lossLines: 0, ringDropped: 0, producersCounted: 0 });
    expect(r.roomWaits).toBeGreaterThan(0); // producers waited for room
    expect(r.fileWaits).toBeGreaterThan(0); // the consumer waited for the file
  });

  it('with producers that drop instead of waiting, reports every lost line, in the file where it happened and in total', async () => {
    const file = join(dir, 'drop.ndjson');
    const r = await runPipeline({
      workers: 2,
      lines: 20_000,
      file,
      ringSize: 1 << 14,
      wait: false,
      consumerDelayMs: 100,
    });
    const v = verifyLog(file, { workers: 2, lines: 20_000 });
    expect(r.lost).toBeGreaterThan(0);
    // what is missing from the file is exactly what was reported lost, and what the producers counted
    expect(v.gaps).toBe(r.lost);
    expect(v.lostReported).toBe(r.lost);
    expect(r.ringDropped).toBe(r.lost);
    expect(r.producersCounted).toBe(r.lost);
    expect(v.lines + r.lost).toBe(40_000);
    expect(v.lossLines).toBe(r.lossLines);
    expect(r.lossLines).toBeGreaterThan(0);
  });

  it('runs as the README shows it, and prints its report', async () => {
    const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
    const command = /^node examples\/node\/logging\/pipeline\.mjs( --\S+)*$/m.exec(readme)?.[0];
    expect(command, 'the README shows the command').toBeDefined();
    const [, script, ...args] = command!.split(' ');
    const file = join(dir, 'cli.ndjson');
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, [script!, ...args, `--file=${file}`], {
      cwd: root,
      timeout: 120_000,
    });
    const workers = Number(/--workers=(\d+)/.exec(command!)![1]);
    const lines = Number(/--lines=(\d+)/.exec(command!)![1]);
    expect(stdout).toMatch(
      new RegExp(
        `^${workers * lines} lines from ${workers} workers in \\d+ ms \\([\\d,]+ lines/s\\) to .*; lost 0 \\(reported in 0 line\\(s\\); the producers counted 0\\)`,
      ),
    );
    expect(verifyLog(file, { workers, lines })).toMatchObject({ lines: workers * lines, gaps: 0 });
  }, 120_000);

  it('benchmarks against the same workers logging through pino.transport (thread-stream), both files checked', async () => {
    const r = await bench({ workers: 2, lines: 2000, rounds: 1, dir });
    expect(r.ring).toBeGreaterThan(0);
    expect(r.pino).toBeGreaterThan(0);
    expect(Number.isFinite(r.ratio)).toBe(true);
  }, 120_000);
});
