// The single-file build: dist/index.js and the files it imports, as one ES
// module with no import at all, for pages without a bundler that prefer one
// file to the dist/ folder, and for CDNs.
//
//   <script type="module">import { RingBuffer } from './wasm-ringbuf.bundle.js';</script>
//
// Exported as `wasm-ringbuf/bundle`; typed by dist/index.d.ts. Run by
// scripts/build.mjs after tsc.
import { readFileSync } from 'node:fs';
import { build } from 'esbuild';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

export const BUNDLE = 'dist/wasm-ringbuf.bundle.js';

export async function bundle() {
  await build({
    absWorkingDir: new URL('..', import.meta.url).pathname,
    entryPoints: ['dist/index.js'],
    outfile: BUNDLE,
    bundle: true,
    format: 'esm',
    platform: 'neutral', // no Node built-in may sneak in: it must run in a page and a worker
    target: 'es2022',
    minify: true,
    sourcemap: true, // chains dist/*.js.map, whose sources are inlined: the map carries the TypeScript
    legalComments: 'eof',
    banner: {
      js: `/*! ${pkg.name} ${pkg.version} (${pkg.license}), single-file build */`,
    },
    logLevel: 'warning',
  });
}
