// Reads an NDJSON log back and checks it: every line valid JSON, each
// worker's lines in order (with gaps only where lines were lost), and the
// loss notices the pipeline wrote. Used by the test and the benchmark.
import { readFileSync } from 'node:fs';

/**
 * @param {string} file
 * @param {{ workers: number, lines: number }} expected
 * @returns {{ lines: number, perWorker: number[], gaps: number, lossLines: number, lostReported: number }}
 */
export function verifyLog(file, { workers, lines }) {
  const text = readFileSync(file, 'utf8');
  if (text.length > 0 && !text.endsWith('\n')) throw new Error(`${file}: the last line has no newline`);
  const perWorker = new Array(workers).fill(0);
  const next = new Array(workers).fill(0);
  let count = 0;
  let gaps = 0;
  let lossLines = 0;
  let lostReported = 0;
  let at = 0;
  for (let end = text.indexOf('\n'); end !== -1; at = end + 1, end = text.indexOf('\n', at)) {
    const raw = text.slice(at, end);
    let line;
    try {
      line = JSON.parse(raw);
    } catch {
      throw new Error(`${file}, line ${count + 1}: not JSON: ${raw.slice(0, 120)}`);
    }
    count++;
    if (typeof line.lost === 'number') {
      lossLines++;
      lostReported += line.lost;
      continue;
    }
    const { worker, seq, level, msg } = line;
    if (!(worker >= 0 && worker < workers) || level !== 30 || msg !== `request ${seq} handled by worker ${worker}`) {
      throw new Error(`${file}, line ${count}: not a line the workers log: ${raw.slice(0, 120)}`);
    }
    if (seq < next[worker])
      throw new Error(`${file}, line ${count}: worker ${worker} line ${seq} after line ${next[worker] - 1}`);
    gaps += seq - next[worker];
    next[worker] = seq + 1;
    perWorker[worker]++;
  }
  for (let w = 0; w < workers; w++) {
    if (next[w] > lines) throw new Error(`worker ${w} logged line ${next[w] - 1}; ${lines} expected`);
    gaps += lines - next[w]; // lost at the end
  }
  return { lines: count - lossLines, perWorker, gaps, lossLines, lostReported };
}
