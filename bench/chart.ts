// bench/results/chart.svg, drawn by hand: only the contenders a user picks
// between (the ring's default path, postMessage, postMessage ×64,
// ringbuf.js), one question per panel, each line labelled at its end so
// that no legend is needed. Logarithmic y axes: the contenders differ by
// orders of magnitude.

import type { CellReport } from './scenarios.js';

interface Series {
  name: string;
  color: string;
  points: { x: number; y: number }[];
}

interface Panel {
  title: string;
  xTitle: string;
  yTitle: string;
  /** The x values in order, placed evenly, and their tick labels. */
  xs: number[];
  xLabel: (x: number) => string;
  series: Series[];
}

/** The lines of the chart: contender, the wakeup mode it is used with, its label and colour. */
const LINES = [
  { contender: 'wasm-ringbuf', wakeup: 'adaptive', name: 'wasm-ringbuf', color: '#1158c7' },
  { contender: 'postMessage ×64', wakeup: 'adaptive', name: 'postMessage ×64', color: '#d9730d' },
  { contender: 'postMessage', wakeup: 'adaptive', name: 'postMessage', color: '#b3261e' },
  { contender: 'ringbuf.js', wakeup: 'NO_WAKEUP', name: 'ringbuf.js', color: '#2e7d32' },
];
const FONT = 'font-family="system-ui, -apple-system, sans-serif"';
const WIDTH = 1000;
const HEIGHT = 430;

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function short(n: number): string {
  if (n >= 1e6) return `${+(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${+(n / 1e3).toFixed(1)}k`;
  return `${+n.toFixed(1)}`;
}

/** 1-2-5 ticks covering [lo, hi]. */
function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) if (m * 10 ** e >= lo && m * 10 ** e <= hi) ticks.push(m * 10 ** e);
  }
  return ticks;
}

/** One panel at (x0, y0), `w` × `h` for the plot, with room for the labels on its right. */
function panel(x0: number, y0: number, w: number, h: number, p: Panel): string[] {
  const out = [
    `<text x="${x0}" y="${y0 - 18}" font-size="15" font-weight="600" ${FONT}>${esc(p.title)}</text>`,
    `<line x1="${x0}" y1="${y0 + h}" x2="${x0 + w}" y2="${y0 + h}" stroke="#888"/>`,
  ];
  const ys = p.series.flatMap((s) => s.points.map((q) => q.y)).filter((y) => y > 0);
  if (ys.length === 0)
    return [
      ...out,
      `<text x="${x0 + w / 2}" y="${y0 + h / 2}" text-anchor="middle" font-size="13" fill="#777" ${FONT}>not measured in this run</text>`,
    ];
  const lo = 10 ** Math.floor(Math.log10(Math.min(...ys)));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...ys)));
  const py = (y: number): number => y0 + h - ((Math.log10(y) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * h;
  const px = (x: number): number =>
    x0 + 30 + (p.xs.length === 1 ? 0.5 : p.xs.indexOf(x) / (p.xs.length - 1)) * (w - 60);
  for (const t of logTicks(lo, hi)) {
    out.push(
      `<line x1="${x0}" x2="${x0 + w}" y1="${py(t).toFixed(1)}" y2="${py(t).toFixed(1)}" stroke="#eee"/>`,
      `<text x="${x0 - 6}" y="${py(t).toFixed(1)}" dy="4" text-anchor="end" font-size="11" fill="#444" ${FONT}>${short(t)}</text>`,
    );
  }
  for (const x of p.xs)
    out.push(
      `<text x="${px(x).toFixed(1)}" y="${y0 + h + 17}" text-anchor="middle" font-size="12" ${FONT}>${esc(p.xLabel(x))}</text>`,
    );
  out.push(
    `<text x="${x0 + w / 2}" y="${y0 + h + 38}" text-anchor="middle" font-size="12" fill="#444" ${FONT}>${esc(p.xTitle)}</text>`,
    `<text transform="translate(${x0 - 50} ${y0 + h / 2}) rotate(-90)" text-anchor="middle" font-size="12" fill="#444" ${FONT}>${esc(p.yTitle)}</text>`,
  );
  // each line's label right of the plot, level with its last point, moved apart where two would
  // overlap; a line that ends before the last x gets a dotted leader to its label
  const right = x0 + w + 8;
  const labels = p.series
    .filter((s) => s.points.length > 0)
    .map((s) => {
      const last = s.points.at(-1)!;
      return { s, from: px(last.x), at: py(last.y), y: py(last.y) };
    })
    .sort((a, b) => a.y - b.y);
  for (let i = 1; i < labels.length; i++) labels[i]!.y = Math.max(labels[i]!.y, labels[i - 1]!.y + 15);
  for (const l of labels) {
    if (l.from < right - 30)
      out.push(
        `<polyline points="${(l.from + 6).toFixed(1)},${l.at.toFixed(1)} ${(right - 4).toFixed(1)},${l.y.toFixed(1)}" fill="none" stroke="${l.s.color}" stroke-dasharray="2 3"/>`,
      );
  }
  for (const s of p.series) {
    const pts = s.points.map((q) => `${px(q.x).toFixed(1)},${py(q.y).toFixed(1)}`);
    if (pts.length > 1)
      out.push(
        `<polyline points="${pts.join(' ')}" fill="none" stroke="${s.color}" stroke-width="${s === p.series[0] ? 3 : 2}"/>`,
      );
    for (const q of s.points)
      out.push(`<circle cx="${px(q.x).toFixed(1)}" cy="${py(q.y).toFixed(1)}" r="4" fill="${s.color}"/>`);
  }
  for (const l of labels)
    out.push(
      `<text x="${right}" y="${l.y.toFixed(1)}" dy="4" font-size="13" font-weight="600" fill="${l.s.color}" ${FONT}>${esc(l.s.name)}</text>`,
    );
  return out;
}

/** The series of scenario `scenario`: one per line of LINES, `pick` giving each cell's point (or null). */
function seriesOf(
  cells: readonly CellReport[],
  scenario: string,
  pick: (c: CellReport) => { x: number; y: number | null },
): Series[] {
  return LINES.map((line) => ({
    name: line.name,
    color: line.color,
    points: cells
      .filter(
        (c) =>
          c.config.scenario === scenario &&
          c.contender === line.contender &&
          c.config.wakeup === line.wakeup &&
          c.median !== null,
      )
      .map(pick)
      .filter((q): q is { x: number; y: number } => q.y !== null && q.y > 0)
      .sort((a, b) => a.x - b.x),
  }));
}

/** The chart of a run's cells as an SVG document; `subtitle` (one short line) names the machine and the run. */
export function chart(cells: readonly CellReport[], subtitle: string): string {
  const producers = seriesOf(cells, 'throughput', (c) => ({ x: c.config.producers, y: c.median!.recordsPerSec }));
  for (const s of producers) if (s.name === 'ringbuf.js') s.name = 'ringbuf.js (1 producer)';
  const latency = seriesOf(cells, 'steady', (c) => ({
    x: typeof c.config.pace === 'object' ? c.config.pace.rate : 0,
    y: c.median!.p99Us,
  }));
  const rates = [...new Set(latency.flatMap((s) => s.points.map((q) => q.x)))].sort((a, b) => a - b);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#fff"/>`,
    `<text x="30" y="30" font-size="17" font-weight="600" ${FONT}>wasm-ringbuf against what a user would pick instead (64 B records, every record checked)</text>`,
    `<text x="30" y="50" font-size="12" fill="#555" ${FONT}>${esc(subtitle)}</text>`,
    ...panel(80, 110, 260, 240, {
      title: 'Records/s, as fast as the producers go',
      xTitle: 'producer workers',
      yTitle: 'records/s (log)',
      xs: [1, 2],
      xLabel: (x) => `${x}`,
      series: producers,
    }),
    ...panel(625, 110, 215, 240, {
      title: 'Delivery latency p99 at a steady rate',
      xTitle: 'records/s sent by one producer',
      yTitle: 'send → callback p99, µs (log)',
      xs: rates,
      xLabel: (x) => `${short(x)}/s`,
      series: latency,
    }),
    `<text x="30" y="${HEIGHT - 30}" font-size="11" fill="#555" ${FONT}>${esc("wasm-ringbuf: the README's path, reserve → data.set → submit with flags 0, await consumer.poll(). postMessage ×64: 64 records per transferred message.")}</text>`,
    `<text x="30" y="${HEIGHT - 14}" font-size="11" fill="#555" ${FONT}>${esc('ringbuf.js has no wakeup: its consumer drains, sleeping 1 ms when empty. Medians of the runs; bench/results/results.md has every figure.')}</text>`,
    '</svg>',
    '',
  ].join('\n');
}
