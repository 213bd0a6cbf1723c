// What a user gets: `npm pack`, install the tarball into an empty project,
// run the README's snippets there with no further step, and compile against
// the packed typings in the tsconfigs users have.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const examples = join(root, 'examples/node');
const dir = mkdtempSync(join(tmpdir(), 'wasm-ringbuf-pack-'));
const app = join(dir, 'app');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The Node snippets of the README, each a file of examples/node, run in the app. */
const NODE_SNIPPETS = ['main.mjs', 'producer.mjs', 'iterate.mjs', 'json-producer.mjs', 'stream.mjs', 'writable.mjs'];

describe('the README', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const shows = (path: string, lang: string) =>
    expect(readme, path).toContain(`\`\`\`${lang}\n${readFileSync(join(root, path), 'utf8')}\`\`\``);

  it('shows the Node quick start verbatim, and links the other Node examples', () => {
    for (const file of ['main.mjs', 'producer.mjs']) shows(`examples/node/${file}`, 'js');
    for (const file of ['iterate.mjs', 'stream.mjs', 'writable.mjs'])
      expect(readme, file).toContain(`(examples/node/${file})`);
  });

  it('shows the browser quick start verbatim, each file named, and links the page without a bundler', () => {
    for (const [file, lang] of [
      ['vite.config.mjs', 'js'],
      ['index.html', 'html'],
      ['main.js', 'js'],
      ['producer.js', 'js'],
    ] as const) {
      shows(`examples/browser/quickstart/${file}`, lang);
      expect(
        readFileSync(join(root, 'examples/browser/quickstart', file), 'utf8')
          .split('\n', 3)
          .join('\n'),
        file,
      ).toContain(file);
    }
    expect(readme).toContain('examples/browser/no-bundler');
  });

  it('says that `using` needs Node 24 or a transpiler', () => {
    expect(readme).toMatch(/`using`[^.]*Node 24[^.]*transpil/);
  });
});

describe('the packed package', () => {
  let installLog = '';
  let packed: { files: string[]; pkg: { scripts?: Record<string, string>; exports: Record<string, unknown> } };

  beforeAll(() => {
    // --ignore-scripts: the test run has built already (prepack would build again)
    const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], {
      cwd: root,
      encoding: 'utf8',
    });
    const [{ filename, files }] = JSON.parse(out) as [{ filename: string; files: { path: string }[] }];
    mkdirSync(app, { recursive: true });
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    const install = spawnSync('npm', ['install', join(dir, filename), '--no-audit', '--no-fund', '--prefer-offline'], {
      cwd: app,
      encoding: 'utf8',
    });
    if (install.status !== 0) throw new Error(`npm install failed:\n${install.stderr}`);
    installLog = `${install.stdout}\n${install.stderr}`;
    packed = {
      files: files.map((f) => f.path),
      pkg: JSON.parse(readFileSync(join(app, 'node_modules/wasm-ringbuf/package.json'), 'utf8')),
    };
    for (const file of NODE_SNIPPETS) copyFileSync(join(examples, file), join(app, file));
  }, 120_000);

  it('ships dist/ (the single-file build included), the README and the licence, nothing else', () => {
    expect(packed.files).toContain('dist/index.js');
    expect(packed.files).toContain('dist/index.d.ts');
    expect(packed.files).toContain('dist/wasm-ringbuf.bundle.js');
    expect(packed.files.filter((p) => !/^(dist\/|README\.md$|package\.json$|LICENSE$)/.test(p))).toEqual([]);
    expect(packed.pkg.exports['./bundle']).toEqual({
      types: './dist/index.d.ts',
      default: './dist/wasm-ringbuf.bundle.js',
    });
  });

  it('runs no script when installed, and npm warns of none', () => {
    for (const s of ['preinstall', 'install', 'postinstall', 'prepare'])
      expect(packed.pkg.scripts?.[s], s).toBeUndefined();
    expect(installLog).not.toMatch(/install-scripts|wasm-ringbuf@[^ ]* \(/);
  });

  it('has source maps that carry their sources (src/ is not shipped)', () => {
    const dist = join(app, 'node_modules/wasm-ringbuf/dist');
    const maps = readdirSync(dist, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js.map'));
    expect(maps.length).toBeGreaterThan(10);
    for (const m of maps) {
      const map = JSON.parse(readFileSync(join(dist, m), 'utf8')) as {
        sources: string[];
        sourcesContent?: (string | null)[];
      };
      expect(map.sourcesContent?.length, m).toBe(map.sources.length);
      expect(
        map.sourcesContent!.every((c) => typeof c === 'string' && c.length > 0),
        m,
      ).toBe(true);
    }
  });

  it('exports the extras on their own paths too: wasm-ringbuf/perfbuf, /streams, /codec', () => {
    const script = [
      "import * as main from 'wasm-ringbuf';",
      "import * as perfbuf from 'wasm-ringbuf/perfbuf';",
      "import * as streams from 'wasm-ringbuf/streams';",
      "import * as codec from 'wasm-ringbuf/codec';",
      'const same = (m) => Object.entries(m).every(([k, v]) => main[k] === v);',
      'console.log(Object.keys(perfbuf).sort().join(), Object.keys(streams).sort().join(),',
      '  Object.keys(codec).sort().join(), same(perfbuf) && same(streams) && same(codec));',
    ].join('\n');
    const stdout = execFileSync('node', ['--input-type=module', '-e', script], { cwd: app, encoding: 'utf8' });
    expect(stdout).toBe(
      'PerfBuffer,PerfBufferConsumer,PerfBufferProducer,PerfReservation ' +
        'createReadableStream,createWritableStream,readBatches,readRecords ' +
        'readJSON,readText,utf8Length,writeJSON,writeJSONAsync,writeText,writeTextAsync true\n',
    );
  });

  it('runs the Node quick start', () => {
    const stdout = execFileSync('node', ['main.mjs'], { cwd: app, encoding: 'utf8', timeout: 60_000 });
    expect(stdout).toMatch(/^(alpha|beta) says hello #0 /m);
    expect(stdout).toMatch(/received 2000 records; dropped 0/);
  }, 90_000);

  it('runs the iterator, ReadableStream and WritableStream snippets as the README shows them', () => {
    const run = (file: string) => execFileSync('node', [file], { cwd: app, encoding: 'utf8', timeout: 60_000 });
    expect(run('iterate.mjs')).toMatch(
      /^\{ worker: [01], seq: 0, msg: 'héllo' \}\n\{ worker: [01], seq: \d+, msg: 'héllo' \}\n2000 events; dropped 0\n$/,
    );
    expect(run('stream.mjs')).toBe('wrote events.ndjson\n');
    const lines = readFileSync(join(app, 'events.ndjson'), 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(1000);
    expect(JSON.parse(lines[999]!)).toEqual({ worker: 0, seq: 999, msg: 'héllo' });
    expect(run('writable.mjs')).toBe('received 10000; dropped 0; the writer waited for room now and then\n');
  }, 120_000);

  describe('the typings compile with skipLibCheck: false', () => {
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    const SOURCE = [
      "import { RingBuffer, RingBufferConsumer, readRecords, readJSON, createReadableStream, createWritableStream, type RingBufferErrorCode } from 'wasm-ringbuf';",
      "import * as bundle from 'wasm-ringbuf/bundle';",
      'const rb = await RingBuffer.create({ size: 4096 });',
      'const c: RingBufferConsumer = new bundle.RingBufferConsumer();',
      'c.close();',
      'for await (const r of readRecords(rb, { map: readJSON<{ n: number }> })) r.n.toFixed();',
      'const s: ReadableStream<Uint8Array> = createReadableStream(rb);',
      'const w: WritableStream<string> = createWritableStream<string>(rb);',
      "const code: RingBufferErrorCode = 'ERR_RINGBUF_SIZE';",
      'export { s, w, code };',
      '',
    ].join('\n');
    const projects = {
      // a page with a bundler: no esnext.disposable in lib, no @types/node
      browser: { lib: ['ES2022', 'DOM'], module: 'ESNext', moduleResolution: 'Bundler', types: [] },
      // the same, with the lib that declares Symbol.dispose too: the declarations merge
      'browser, esnext.disposable': {
        lib: ['ES2022', 'DOM', 'ESNext.Disposable'],
        module: 'ESNext',
        moduleResolution: 'Bundler',
        types: [],
      },
      // a module worker's own project
      worker: { lib: ['ES2022', 'WebWorker'], module: 'ESNext', moduleResolution: 'Bundler', types: [] },
      // Node without DOM: @types/node 20 declares no WebAssembly namespace
      node: {
        lib: ['ES2022'],
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        types: ['node'],
        typeRoots: [join(root, 'node_modules/@types')],
      },
    };
    for (const [name, options] of Object.entries(projects)) {
      it(name, () => {
        const project = join(app, `ts-${name.replace(/\W+/g, '-')}`);
        mkdirSync(project, { recursive: true });
        writeFileSync(join(project, 'main.ts'), SOURCE);
        writeFileSync(join(project, 'package.json'), JSON.stringify({ type: 'module' }));
        writeFileSync(
          join(project, 'tsconfig.json'),
          JSON.stringify({
            compilerOptions: { target: 'ES2022', strict: true, skipLibCheck: false, noEmit: true, ...options },
            files: ['main.ts'],
          }),
        );
        const r = spawnSync(process.execPath, [tsc, '-p', project], {
          cwd: project,
          encoding: 'utf8',
          timeout: 120_000,
        });
        expect(`${r.stdout}${r.stderr}`, name).toBe('');
        expect(r.status).toBe(0);
      }, 120_000);
    }
  });
});
