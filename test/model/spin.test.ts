// The SPIN model of the ring protocol (model/ringbuf.pml, docs/model.md):
// every configuration passes an exhaustive search, and every mutation (a
// known mistake put back into the model) produces a counterexample.
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const script = fileURLToPath(new URL('../../model/check.sh', import.meta.url));

/** What the script will check, from `check.sh --list` (no SPIN needed). */
const planned = execFileSync('bash', [script, '--list'], { cwd: root, encoding: 'utf8' })
  .trim()
  .split('\n')
  .map((line) => {
    const [name, kind] = line.trim().split(/\s+/);
    return { name: name!, kind: kind as 'config' | 'mutation' };
  });

interface Result {
  ok: boolean;
  kind: string;
  line: string;
}

const results = new Map<string, Result>();
let output = '';
/** Set when the check cannot run: every test then fails with it (none is skipped). */
let missing: string | undefined;

beforeAll(async () => {
  const spin = spawnSync('spin', ['-V'], { encoding: 'utf8' });
  if (spin.error || spin.status !== 0) {
    missing =
      "SPIN is not installed: apt-get install -y spin (Debian's package; CI installs it). The model check never skips.";
    return;
  }
  output = await new Promise<string>((resolve) => {
    execFile(
      'bash',
      [script],
      { cwd: root, encoding: 'utf8', maxBuffer: 16 << 20, timeout: 1_200_000 },
      (err, stdout, stderr) => {
        resolve(stdout + (err ? `\n${stderr}\n(check.sh: ${err.message})` : ''));
      },
    );
  });
  for (const line of output.split('\n')) {
    const m = /^(ok|FAIL)\s+(config|mutation)\s+(\S+)/.exec(line);
    if (m) results.set(m[3]!, { ok: m[1] === 'ok', kind: m[2]!, line });
  }
}, 1_210_000); // about 4 minutes on 2 idle cores; a loaded machine takes longer

describe('the SPIN model of the protocol', () => {
  it('has SPIN to run the check', () => {
    if (missing) throw new Error(missing);
  });

  it('plans configurations and mutations', () => {
    expect(planned.filter((p) => p.kind === 'config').length).toBeGreaterThanOrEqual(8);
    expect(planned.filter((p) => p.kind === 'mutation').length).toBeGreaterThanOrEqual(3);
  });

  for (const { name, kind } of planned) {
    const title =
      kind === 'config'
        ? `${name}: every property holds (exhaustive search)`
        : `${name}: the mistake gives a counterexample`;
    it(title, () => {
      if (missing) throw new Error(missing);
      const r = results.get(name);
      expect(r, `no result line for ${name} in:\n${output}`).toBeDefined();
      expect(r!.kind).toBe(kind);
      expect(r!.ok, r!.line).toBe(true);
      if (kind === 'mutation') expect(r!.line).toMatch(/counterexample: /);
      else expect(r!.line).toMatch(/no errors, exhaustive/);
    });
  }

  it('reports every run as passed', () => {
    if (missing) throw new Error(missing);
    expect(output).toMatch(new RegExp(`^model: ${planned.length} passed, 0 failed( \\(\\d+s\\))?$`, 'm'));
  });
});
