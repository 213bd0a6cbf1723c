// A real bundler build of the demo:
//
//   npx vite build examples/browser --config examples/browser/vite.config.mjs
//   node examples/browser/serve.mjs      # then open <url>build/browser-demo/
//
// Nothing here is about the wasm: the package embeds it in its JavaScript.
// Vite bundles the module worker from `new Worker(new URL(...), { type: 'module' })`
// by itself; `worker.format: 'es'` keeps it a module worker.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The two headers of cross-origin isolation, for `vite` (dev) and `vite preview`.
const headers = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  resolve: {
    // This demo lives inside the package's own repository, where 'wasm-ringbuf'
    // is not in node_modules. An app that installed the package needs no alias
    // (test/browser/quickstart.test.ts proves it with examples/browser/quickstart).
    alias: { 'wasm-ringbuf': fileURLToPath(new URL('../../dist/index.js', import.meta.url)) },
  },
  worker: { format: 'es' },
  build: {
    outDir: fileURLToPath(new URL('../../build/browser-demo', import.meta.url)),
    emptyOutDir: true,
    rollupOptions: { input: fileURLToPath(new URL('./index.html', import.meta.url)) },
  },
  plugins: [
    {
      // The bundle resolves every import itself: the page's import map (for serve.mjs) goes.
      name: 'drop-import-map',
      transformIndexHtml: (html) =>
        html.replace(/\s*<!--[\s\S]*?-->\s*<script type="importmap">[\s\S]*?<\/script>/, ''),
    },
  ],
  server: { headers },
  preview: { headers },
});
