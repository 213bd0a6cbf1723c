#!/usr/bin/env node
// A static server for the browser demo, with no dependencies. It sends the two
// headers that make a page cross-origin isolated, without which a browser
// gives it no SharedArrayBuffer and so no shared WebAssembly.Memory:
//
//   Cross-Origin-Opener-Policy: same-origin
//   Cross-Origin-Embedder-Policy: require-corp
//
// It serves the repository's files under a few prefixes only: the demo page
// and the built package (dist/).
//
// Module workers do not see a page's import map (Chromium 156 still ignores it
// there), and the demo's worker imports the bare specifier 'wasm-ringbuf'.
// So, like Vite's dev server, this server resolves the bare specifiers of the
// JavaScript it serves, with the same table as the import map in index.html.
//
//   node examples/browser/serve.mjs                  # http://127.0.0.1:<ephemeral port>/
//   PORT=8080 node examples/browser/serve.mjs
//   node examples/browser/serve.mjs --no-isolation   # no COOP/COEP: see the error a page gets
//
// Import it to start one from a test: `const s = await startServer(); s.url; await s.close()`.
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: URLs map onto it, below the allowed prefixes. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The headers of cross-origin isolation (`self.crossOriginIsolated === true`). */
export const ISOLATION_HEADERS = Object.freeze({
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
});

/** URL prefixes served by default: everything else is a 404. */
export const DEFAULT_PREFIXES = Object.freeze([
  '/examples/browser/',
  '/dist/',
  '/build/browser-demo/', // the Vite build of the demo (examples/browser/vite.config.mjs)
]);

/** Bare specifiers and where they are served: the import map of index.html, applied to workers too. */
export const BARE_SPECIFIERS = Object.freeze({
  'wasm-ringbuf': '/dist/index.js',
});

const BARE = new RegExp(
  String.raw`(\bfrom\s*|\bimport\s*\(?\s*)(['"])(${Object.keys(BARE_SPECIFIERS)
    .map((k) => k.replace(/[/.]/g, '\\$&'))
    .join('|')})\2`,
  'g',
);

/** Rewrites `from 'wasm-ringbuf'` and friends to served paths (what an import map does for a page). */
export function resolveBareImports(source) {
  return source.replace(BARE, (_, head, quote, name) => `${head}${quote}${BARE_SPECIFIERS[name]}${quote}`);
}

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
};

/**
 * Starts the server. Options:
 * - `port`: a port number; default `process.env.PORT`, else 0 (an ephemeral port).
 * - `isolated`: send COOP/COEP (default true); false shows what a page gets without them.
 * - `prefixes`: URL prefixes to serve (default DEFAULT_PREFIXES).
 * Resolves to `{ url, port, close }` once listening on 127.0.0.1.
 */
export function startServer({
  port = Number(process.env.PORT ?? 0),
  isolated = true,
  prefixes = DEFAULT_PREFIXES,
} = {}) {
  const server = createServer((req, res) => {
    handle(req, res, isolated, prefixes).catch((err) => {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(String(err?.stack ?? err));
    });
  });
  // keep-alive sockets would hold close() open until they time out
  const sockets = new Set();
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      const actual = server.address().port;
      resolvePromise({
        url: `http://127.0.0.1:${actual}/`,
        port: actual,
        close: () =>
          new Promise((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

async function handle(req, res, isolated, prefixes) {
  const headers = {
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    ...(isolated ? ISOLATION_HEADERS : {}),
  };
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { ...headers, Allow: 'GET, HEAD' });
    return void res.end();
  }
  let path;
  try {
    path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
  } catch {
    res.writeHead(400, headers);
    return void res.end('bad URL');
  }
  if (path === '/') {
    res.writeHead(302, { ...headers, Location: '/examples/browser/' });
    return void res.end();
  }
  if (path === '/favicon.ico') {
    res.writeHead(204, headers);
    return void res.end();
  }
  if (path.endsWith('/')) path += 'index.html';
  // check the prefixes on the resolved file, so that no `..` (even %2f-encoded) climbs out of them
  const file = resolve(ROOT, `.${path}`);
  const served = `/${relative(ROOT, file).split(sep).join('/')}`;
  const allowed = !served.startsWith('/..') && prefixes.some((p) => served.startsWith(p) || `${served}/` === p);
  const info = allowed ? await stat(file).catch(() => null) : null;
  if (info?.isDirectory()) {
    res.writeHead(302, { ...headers, Location: `${encodeURI(path)}/` });
    return void res.end();
  }
  if (info === null || !info.isFile()) {
    res.writeHead(404, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' });
    const hint =
      path.startsWith('/dist/') || path.startsWith('/build/browser-demo/')
        ? ' (run `npm run build` first; the Vite build of the demo: see examples/browser/vite.config.mjs)'
        : '';
    return void res.end(`not found: ${path}${hint}\n`);
  }
  let body = await readFile(file);
  if (/\.m?js$/.test(file)) body = Buffer.from(resolveBareImports(body.toString('utf8')));
  res.writeHead(200, {
    ...headers,
    'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
    'Content-Length': body.length,
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

// Run as a script: serve until interrupted.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const isolated = !process.argv.includes('--no-isolation');
  const { url } = await startServer({ isolated });
  console.log(`wasm-ringbuf browser demo: ${url}`);
  console.log(
    `  the Vite build (after \`npx vite build examples/browser --config examples/browser/vite.config.mjs\`): ${url}build/browser-demo/`,
  );
  console.log(
    isolated
      ? `  sending ${Object.entries(ISOLATION_HEADERS)
          .map(([k, v]) => `${k}: ${v}`)
          .join(', ')}`
      : '  --no-isolation: COOP/COEP NOT sent; the page will show the error it gets',
  );
  console.log('  Ctrl-C to stop');
}
