#!/usr/bin/env node
// The build, redoing only what is stale, so that `npm test`, `npm start` and
// `npm run demo` can each build first and cost seconds when nothing changed:
//
//   1. wasm       assembly/ → build/ringbuf.wasm (release) and .debug.wasm, then the check that
//                 the shared module has no data segment and no allocator  (when assembly/ changed)
//   2. generated  build/ringbuf.wasm → src/generated/wasm-binary.ts, assembly/layout.ts →
//                 src/generated/layout.ts                                  (when their inputs changed)
//   3. library    src/ → dist/ (tsc, incremental)
//   4. bench      bench/ → build/bench/ (tsc, incremental)
//   5. bundle     dist/ → dist/wasm-ringbuf.bundle.js, one ES module
//                 with no import, for pages without a bundler and CDNs (esbuild)
//
//   node scripts/build.mjs           # what is stale
//   node scripts/build.mjs --force   # everything
//   node scripts/build.mjs --check   # only say what is stale (exit 1 if anything is)
//
// Staleness is judged by modification times (steps 1, 2) and by tsc's own
// incremental state (3, 4; kept in build/, and dropped when its output is
// missing, so that deleting dist/ or build/ always rebuilds).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const force = process.argv.includes('--force');
const check = process.argv.includes('--check');
const at = (p) => join(root, p);
const bin = {
  asc: at('node_modules/assemblyscript/bin/asc.js'),
  tsc: at('node_modules/typescript/bin/tsc'),
};

function run(script, args) {
  if (check) return;
  execFileSync(process.execPath, [script, ...args], { cwd: root, stdio: 'inherit' });
}

/** The newest modification time among files (directories are walked) that `keep` accepts. */
function newest(paths, keep = () => true) {
  let t = 0;
  for (const p of paths) {
    const full = at(p);
    if (!existsSync(full)) continue;
    const s = statSync(full);
    if (s.isDirectory())
      t = Math.max(
        t,
        newest(
          readdirSync(full).map((f) => join(p, f)),
          keep,
        ),
      );
    else if (keep(p)) t = Math.max(t, s.mtimeMs);
  }
  return t;
}

/** Whether any output is missing or older than the newest input. */
function stale(inputs, outputs, keep) {
  if (force) return true;
  const since = newest(inputs, keep);
  return outputs.some((o) => !existsSync(at(o)) || statSync(at(o)).mtimeMs < since);
}

let ran = false;
const step = (name) => {
  ran = true;
  process.stdout.write(`build: ${check && name !== 'up to date' ? 'stale: ' : ''}${name}\n`);
};

// 1. wasm
if (
  stale(
    ['assembly', 'asconfig.json', 'node_modules/assemblyscript/package.json'],
    ['build/ringbuf.wasm', 'build/ringbuf.wat', 'build/ringbuf.debug.wasm'],
  )
) {
  step('wasm (asc, release and debug)');
  run(bin.asc, ['assembly/index.ts', '--target', 'release']);
  run(bin.asc, ['assembly/index.ts', '--target', 'debug']);
  run(at('scripts/check-wasm.mjs'), []);
}

// 2. generated sources
if (stale(['build/ringbuf.wasm', 'scripts/embed-wasm.mjs'], ['src/generated/wasm-binary.ts'])) {
  step('src/generated/wasm-binary.ts');
  run(at('scripts/embed-wasm.mjs'), []);
}
if (stale(['assembly/layout.ts', 'scripts/gen-layout.mjs'], ['src/generated/layout.ts'])) {
  step('src/generated/layout.ts');
  run(at('scripts/gen-layout.mjs'), []);
}

// 3, 4. TypeScript, incremental; its state goes when the output it describes is gone
const declarations = (p) => p.endsWith('.d.ts');
function tsc(project, infoFile, output, inputs, keep) {
  const missing = !existsSync(at(output));
  if (missing && !check) rmSync(at(infoFile), { force: true });
  if (!missing && !stale(inputs, [infoFile], keep)) return;
  step(`tsc -p ${project}`);
  if (check) return;
  run(bin.tsc, ['-p', project, '--incremental', '--tsBuildInfoFile', infoFile]);
  const now = new Date();
  utimesSync(at(infoFile), now, now); // tsc leaves it alone when nothing changed
}
tsc('tsconfig.build.json', 'build/tsbuildinfo/dist.json', 'dist/index.js', [
  'src',
  'tsconfig.json',
  'tsconfig.build.json',
]);
tsc(
  'tsconfig.bench.json',
  'build/tsbuildinfo/bench.json',
  'build/bench/run.js',
  ['bench', 'dist', 'tsconfig.json', 'tsconfig.bench.json'],
  (p) => !p.startsWith('dist') || declarations(p),
);

// 5. the single-file ES module
const { BUNDLE, bundle } = await import('./bundle.mjs');
if (stale(['dist', 'scripts/bundle.mjs', 'package.json'], [BUNDLE], (p) => !p.startsWith(BUNDLE) && !declarations(p))) {
  step(`${BUNDLE} (esbuild)`);
  if (!check) await bundle();
}
if (!ran) step('up to date');
else if (check) process.exitCode = 1;
