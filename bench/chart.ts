// The SVG chart, drawn by hand: throughput against producers (scenarios
// `producers`, solid, and `no-wakeup`, dashed) and against the FORCE sample
// rate (scenario `sampled`). Logarithmic axes for records/s and sample rate.

import type { CellReport } from './report.js';

interface Series {
  name: string;
  color: string;
  dashed: boolean;
  points: { x: number; y: number }[];
}

const PALETTE = [
  '#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#17becf', '#e377c2',
  '#7f7f7f', '#bcbd22', '#393b79', '#e7ba52', '#637939', '#843c39',
];
const WIDTH = 1000;
const HEIGHT = 460;
const FONT = 'font-family="system-ui, sans-serif"';

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function shortRate(n: number): string {
  if (n >= 1e6) return `${+(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${+(n / 1e3).toFixed(1)}k`;
  return `${+n.toFixed(1)}`;
}

/** 1-2-5 ticks covering [lo, hi] on a log scale. */
function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= lo && v <= hi) ticks.push(v);
    }
  }
  return ticks;
}

/**
 * One panel at (x0, y0) of size w × h. `xs` are the x values to mark; x is
 * placed on a log scale when `logX`, else evenly by rank.
 */
function panel(x0: number, y0: number, w: number, h: number, title: string, xTitle: string, xs: number[], logX: boolean, series: Series[]): string[] {
  const out = [`<text x="${x0 + w / 2}" y="${y0 - 12}" text-anchor="middle" font-size="15" font-weight="600" ${FONT}>${esc(title)}</text>`];
  out.push(`<rect x="${x0}" y="${y0}" width="${w}" height="${h}" fill="none" stroke="#999"/>`);
  const ys = series.flatMap((s) => s.points.map((p) => p.y)).filter((y) => y > 0);
  if (ys.length === 0 || xs.length === 0) {
    out.push(`<text x="${x0 + w / 2}" y="${y0 + h / 2}" text-anchor="middle" font-size="13" fill="#777" ${FONT}>not measured in this run</text>`);
    return out;
  }
  const lo = 10 ** Math.floor(Math.log10(Math.min(...ys)));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...ys)));
  const py = (y: number): number => y0 + h - ((Math.log10(y) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * h;
  const sorted = [...new Set(xs)].sort((a, b) => a - b);
  const pad = 30;
  const px = (x: number): number => {
    if (sorted.length === 1) return x0 + w / 2;
    const t = logX
      ? (Math.log10(x) - Math.log10(sorted[0]!)) / (Math.log10(sorted.at(-1)!) - Math.log10(sorted[0]!))
      : sorted.indexOf(x) / (sorted.length - 1);
    return x0 + pad + t * (w - 2 * pad);
  };
  for (const t of logTicks(lo, hi)) {
    const y = py(t).toFixed(1);
    out.push(`<line x1="${x0}" x2="${x0 + w}" y1="${y}" y2="${y}" stroke="#eee"/>`);
    out.push(`<text x="${x0 - 6}" y="${y}" dy="4" text-anchor="end" font-size="11" ${FONT}>${shortRate(t)}</text>`);
  }
  for (const x of sorted) {
    out.push(`<text x="${px(x).toFixed(1)}" y="${y0 + h + 16}" text-anchor="middle" font-size="11" ${FONT}>${x}</text>`);
  }
  out.push(`<text x="${x0 + w / 2}" y="${y0 + h + 34}" text-anchor="middle" font-size="12" ${FONT}>${esc(xTitle)}</text>`);
  out.push(`<text transform="translate(${x0 - 52} ${y0 + h / 2}) rotate(-90)" text-anchor="middle" font-size="12" ${FONT}>records/s (log)</text>`);
  for (const s of series) {
    const pts = s.points.filter((p) => p.y > 0).sort((a, b) => a.x - b.x).map((p) => `${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`);
    if (pts.length === 0) continue;
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    if (pts.length > 1) out.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${s.color}" stroke-width="2"${dash}/>`);
    for (const p of pts) {
      const [cx, cy] = p.split(',');
      out.push(`<circle cx="${cx}" cy="${cy}" r="3.5" fill="${s.color}"/>`);
    }
  }
  return out;
}

function legend(x0: number, y0: number, series: Series[]): string[] {
  const out: string[] = [];
  series.forEach((s, i) => {
    const x = x0 + (i % 3) * 300;
    const y = y0 + Math.floor(i / 3) * 18;
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    out.push(`<line x1="${x}" x2="${x + 26}" y1="${y}" y2="${y}" stroke="${s.color}" stroke-width="2"${dash}/>`);
    out.push(`<text x="${x + 32}" y="${y}" dy="4" font-size="12" ${FONT}>${esc(s.name)}</text>`);
  });
  return out;
}

function seriesOf(cells: CellReport[], scenario: string, x: (c: CellReport) => number, colors: Map<string, string>, dashed: boolean, suffix: string): Series[] {
  const byContender = new Map<string, Series>();
  for (const c of cells) {
    if (c.config.scenario !== scenario || c.median === null) continue;
    let s = byContender.get(c.contender);
    if (s === undefined) {
      s = { name: c.contender + suffix, color: colors.get(c.contender) ?? '#000', dashed, points: [] };
      byContender.set(c.contender, s);
    }
    s.points.push({ x: x(c), y: c.median.recordsPerSec });
  }
  // one point draws no line (a one-producer-only contender): left out
  return [...byContender.values()].filter((s) => s.points.length > 1);
}

/** The chart of `cells` as an SVG document; `title` goes on top. */
export function chart(cells: CellReport[], title: string): string {
  const colors = new Map<string, string>();
  for (const c of cells) if (!colors.has(c.contender)) colors.set(c.contender, PALETTE[colors.size % PALETTE.length]!);
  const producers = [
    ...seriesOf(cells, 'producers', (c) => c.config.producers, colors, false, ''),
    ...seriesOf(cells, 'no-wakeup', (c) => c.config.producers, colors, true, ' (NO_WAKEUP, drain)'),
  ];
  const sampled = seriesOf(cells, 'sampled', (c) => c.config.wakeup as number, colors, false, ' (sampled)');
  const xsOf = (series: Series[]): number[] => series.flatMap((s) => s.points.map((p) => p.x));
  const legendRows = Math.ceil((producers.length + sampled.length) / 3);
  const height = HEIGHT + legendRows * 18;
  const body = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}">`,
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    `<text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="16" ${FONT}>${esc(title)}</text>`,
    ...panel(80, 70, 380, 300, 'Throughput vs producers (64 B)', 'producers', xsOf(producers), false, producers),
    ...panel(580, 70, 380, 300, 'Throughput vs FORCE every N (1 producer, 64 B)', 'FORCE_WAKEUP every N records', xsOf(sampled), true, sampled),
    ...legend(40, HEIGHT - 30, [...producers, ...sampled]),
    '</svg>',
    '',
  ];
  return body.join('\n');
}
