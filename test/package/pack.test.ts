// What a user gets: `npm pack`, install the tarball into an empty project,
// run the README's quick start there with no further step.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const examples = join(root, 'examples/node');
const dir = mkdtempSync(join(tmpdir(), 'wasm-ringbuf-pack-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the packed package', () => {
  it('shows the quick starts in the README verbatim', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    for (const file of ['main.mjs', 'producer.mjs']) {
      expect(readme).toContain('```js\n' + readFileSync(join(examples, file), 'utf8') + '```');
    }
    const browser = join(root, 'examples/browser/quickstart');
    for (const [file, lang] of [['vite.config.js', 'js'], ['index.html', 'html'], ['main.js', 'js'], ['producer.js', 'js']]) {
      expect(readme, file).toContain('```' + lang + '\n' + readFileSync(join(browser, file!), 'utf8') + '```');
    }
  });

  it('installs from its tarball into an empty project and runs the quick start', () => {
    const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: root, encoding: 'utf8' });
    const [{ filename, files }] = JSON.parse(out) as [{ filename: string; files: { path: string }[] }];
    const paths = files.map((f) => f.path);
    expect(paths).toContain('dist/index.js');
    expect(paths).toContain('dist/index.d.ts');
    expect(paths.filter((p) => !/^(dist\/|README\.md$|package\.json$|LICENSE$)/.test(p))).toEqual([]);
    const app = join(dir, 'app');
    execFileSync('mkdir', ['-p', app]);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    execFileSync('npm', ['install', join(dir, filename), '--no-audit', '--no-fund', '--prefer-offline'], { cwd: app, stdio: 'pipe' });
    for (const file of ['main.mjs', 'producer.mjs']) copyFileSync(join(examples, file), join(app, file));
    const stdout = execFileSync('node', ['main.mjs'], { cwd: app, encoding: 'utf8', timeout: 60_000 });
    expect(stdout).toMatch(/^(alpha|beta) says hello #0 /m);
    expect(stdout).toMatch(/received 2000 records; dropped 0/);
  }, 120_000);
});
