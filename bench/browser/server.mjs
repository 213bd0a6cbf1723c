// The static server the browser benchmark's page is loaded from: the
// repository's root (the page imports dist/wasm-ringbuf.bundle.js and
// node_modules/ringbuf.js by absolute path), cross-origin isolated, on an
// ephemeral port of 127.0.0.1. The page POSTs its progress lines to /progress
// and its result to /result, as test/engines/page.html does.
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listenLocally } from '../../scripts/browsers.mjs';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cache-Control': 'no-store',
};

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.map': 'application/json',
};

/** The only folders the page may load from. */
const SERVED = ['bench/browser/', 'dist/', 'node_modules/ringbuf.js/'];

/**
 * Starts the server. `onProgress(line)` is called for each progress line.
 * Resolves to `{ url, pageUrl(query), result, log, close }`: `result`
 * resolves with the first JSON body POSTed to /result; `log` keeps the
 * progress lines and the requests that failed.
 */
export async function startBenchServer({ onProgress = () => {} } = {}) {
  const log = [];
  let deliver;
  const result = new Promise((resolve) => (deliver = resolve));
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    try {
      if (req.method === 'POST') {
        const chunks = [];
        for await (const chunk of req) chunks.push(chunk);
        res.writeHead(204, HEADERS).end();
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        if (path === '/result') deliver(body);
        else {
          log.push(body.line);
          onProgress(body.line);
        }
        return;
      }
      const file = normalize(join(ROOT, path));
      const relative = file.startsWith(ROOT) ? file.slice(ROOT.length).split(sep).join('/') : null;
      if (relative === null || !SERVED.some((prefix) => relative.startsWith(prefix))) {
        throw Object.assign(new Error('not served'), { status: 404 });
      }
      const body = await readFile(file).catch(() => {
        throw Object.assign(new Error('no such file'), { status: 404 });
      });
      const ext = file.slice(file.lastIndexOf('.'));
      res.writeHead(200, { ...HEADERS, 'Content-Type': TYPES[ext] ?? 'application/octet-stream' }).end(body);
    } catch (err) {
      if (path !== '/favicon.ico') log.push(`HTTP ${err.status ?? 500} for ${req.method} ${req.url}: ${err.message}`);
      if (!res.headersSent) res.writeHead(err.status ?? 500, HEADERS);
      res.end();
    }
  });
  const { url, close } = await listenLocally(server);
  return {
    url,
    pageUrl: (query = {}) => `${url}bench/browser/page.html?${new URLSearchParams(query)}`,
    result,
    log,
    close,
  };
}
