// The codecs benchmark runs end to end (a smoke test: never a timing assertion).
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

it('bench/codecs.ts --quick reports both parts, every contender checked', async () => {
  const script = fileURLToPath(new URL('../../build/bench/codecs.js', import.meta.url));
  const { stdout } = await promisify(execFile)(process.execPath, [script, '--quick'], { timeout: 120_000 });
  expect(stdout).toContain('| text → record: writeText() (encodeInto() a private scratch, then one copy) |');
  expect(stdout).toContain('| object → object: writeJSON() + readJSON() through the ring |');
  expect(stdout).toMatch(/\| postMessage, one object per message \| [\d.]+ [kM]? ?\| 1\.00 \|/);
  expect(stdout).toMatch(/\| ring, JSON records \(writeJSON → readJSON\) \| [\d.]+ [kM]? ?\| [\d.]+ \|/);
}, 150_000);
