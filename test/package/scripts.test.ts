// The repository's scripts: each that needs the build builds first, and the
// build redoes nothing when nothing changed (npm test has just built).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as { scripts: Record<string, string> };

it('npm start, npm test and npm run demo build first; nothing builds at install', () => {
  for (const s of ['start', 'test', 'demo', 'bench', 'bench:codecs', 'bench:logging'])
    expect(pkg.scripts[s], s).toMatch(/^npm run build && /);
  for (const s of ['prepare', 'preinstall', 'install', 'postinstall']) expect(pkg.scripts[s], s).toBeUndefined();
  expect(pkg.scripts.prepack).toBe('node scripts/build.mjs');
});

it('a build with nothing changed redoes nothing (checked without building: --check)', () => {
  const out = execFileSync(process.execPath, ['scripts/build.mjs', '--check'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(out).toBe('build: up to date\n');
});
