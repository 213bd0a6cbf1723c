// serve.mjs: serves this folder on http://127.0.0.1:8080/ (PORT to change) with the two headers
// that make a page cross-origin isolated. Any static server that can set them will do.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';

const types = { '.html': 'text/html', '.js': 'text/javascript', '.map': 'application/json' };
const server = createServer(async (req, res) => {
  const name = new URL(req.url, 'http://x').pathname.slice(1) || 'index.html';
  const body = /^[\w.-]+$/.test(name) ? await readFile(new URL(name, import.meta.url)).catch(() => null) : null;
  res.writeHead(body ? 200 : 404, {
    'Content-Type': types[extname(name)] ?? 'application/octet-stream',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Embedder-Policy': 'require-corp',
  });
  res.end(body ?? 'not found');
});
server.listen(Number(process.env.PORT ?? 8080), '127.0.0.1', () =>
  console.log(`http://127.0.0.1:${server.address().port}/`),
);
