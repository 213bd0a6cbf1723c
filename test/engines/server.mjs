// The static server the browsers load the engine suite from: the temporary
// project the package was installed into, cross-origin isolated, with the bare
// specifiers of its JavaScript resolved through node_modules (module workers
// see no import map), as a bundler's dev server does. The page POSTs its log
// lines to /log and its result to /result.
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join, normalize, sep } from 'node:path';
import { listenLocally } from '../../scripts/browsers.mjs';

const HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cache-Control': 'no-store',
};

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript' };

/** The served path of bare specifier `spec` ('wasm-ringbuf', '@scope/name/sub'), or null when none is installed. */
async function resolveBare(root, spec) {
  const parts = spec.split('/');
  const name = spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
  const sub = spec.length > name.length ? `.${spec.slice(name.length)}` : '.';
  let pkg;
  try {
    pkg = JSON.parse(await readFile(join(root, 'node_modules', name, 'package.json'), 'utf8'));
  } catch {
    return null;
  }
  const pick = (target) => {
    if (typeof target === 'string' || target == null) return target ?? null;
    for (const condition of ['browser', 'import', 'default']) {
      if (condition in target) return pick(target[condition]);
    }
    return null;
  };
  let target = null;
  const { exports } = pkg;
  if (exports !== undefined) {
    const subpaths = typeof exports === 'object' && Object.keys(exports).some((k) => k.startsWith('.'));
    if (subpaths) target = pick(exports[sub]);
    else if (sub === '.') target = pick(exports);
  } else {
    target = sub === '.' ? (pkg.module ?? pkg.main ?? 'index.js') : sub;
  }
  return target === null ? null : `/node_modules/${name}/${target.replace(/^\.\//, '')}`;
}

const IMPORT = /(\bfrom\s*|\bimport\s*\(?\s*)(['"])([^'"./][^'"]*)\2/g;

async function resolveImports(root, source) {
  const specs = new Set([...source.matchAll(IMPORT)].map((m) => m[3]));
  const table = new Map();
  for (const spec of specs) table.set(spec, await resolveBare(root, spec));
  return source.replace(IMPORT, (whole, head, quote, spec) => {
    const path = table.get(spec);
    return path ? `${head}${quote}${path}${quote}` : whole;
  });
}

/**
 * Serves `root` on an ephemeral port of 127.0.0.1. Resolves to `{ url, result,
 * log, close }`: `result` resolves with the first JSON body POSTed to /result,
 * `log` holds the lines POSTed to /log and the requests that failed.
 */
export async function startEngineServer(root) {
  const log = [];
  let deliver;
  const result = new Promise((resolve) => (deliver = resolve));
  const server = createServer(async (req, res) => {
    try {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
      if (req.method === 'POST') {
        const chunks = [];
        for await (const chunk of req) chunks.push(chunk);
        const body = Buffer.concat(chunks).toString('utf8');
        res.writeHead(204, HEADERS).end();
        if (path === '/result') deliver(JSON.parse(body));
        else log.push(JSON.parse(body).line);
        return;
      }
      const file = normalize(join(root, path));
      if (!file.startsWith(root + sep)) {
        throw Object.assign(new Error('outside the project'), { status: 404 });
      }
      let body = await readFile(file).catch(() => {
        throw Object.assign(new Error('no such file'), { status: 404 });
      });
      const ext = file.slice(file.lastIndexOf('.'));
      if (ext === '.js' || ext === '.mjs') body = Buffer.from(await resolveImports(root, body.toString('utf8')));
      res.writeHead(200, { ...HEADERS, 'Content-Type': TYPES[ext] ?? 'application/octet-stream' }).end(body);
    } catch (err) {
      if (req.url !== '/favicon.ico')
        log.push(`HTTP ${err.status ?? 500} for ${req.method} ${req.url}: ${err.message}`);
      if (!res.headersSent) res.writeHead(err.status ?? 500, HEADERS);
      res.end();
    }
  });
  const { url, close } = await listenLocally(server);
  return { url, result, log, close };
}
