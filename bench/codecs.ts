// Text and JSON records through the ring against postMessage of the same
// objects, and the encoding choices behind writeText() (src/codec.ts).
//
//   npm run bench:codecs                 # node build/bench/codecs.js [--quick] [--json=<file>]
//
// Part 1, one thread (tinybench, median ns per record, batches of 1024): each
// way to turn a string or an object into a record and back, beside its
// baseline in the same run: encode() + output() for the writers, and
// structuredClone() (the copy postMessage makes of each object) for the JSON
// round trip.
// Part 2, across threads: one worker sends N log objects, the main thread
// receives them as objects (or strings), each checked; records per second
// from 'go' to the last one received, as a ratio to postMessage of one
// object per message, in the same round. Rounds alternate the order; medians.
import { once } from 'node:events';
import { cpus, loadavg } from 'node:os';
import { writeFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { RingBuffer, RingBufferConsumer, readJSON, readText, utf8Length, writeJSON, writeText } from 'wasm-ringbuf';
import { logLine, logObject, type LogObject } from './codecs-data.js';
import { BATCH, timeBatches } from './micro.js';
import { median } from './util.js';

const quick = process.argv.includes('--quick');
const jsonOut = process.argv.find((a) => a.startsWith('--json='))?.slice(7);

// ---- part 1: one thread -------------------------------------------------------------------

interface MicroRow {
  name: string;
  /** Median nanoseconds per record. */
  ns: number;
  baseline: string;
}

async function micro(): Promise<MicroRow[]> {
  const lines = Array.from({ length: BATCH }, (_, i) => logLine(i));
  const objects = Array.from({ length: BATCH }, (_, i) => logObject(i));
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  let sink = 0;
  const none = (): void => {};
  // the writers' ring, emptied (untimed) after each batch, or read (timed) by the round trip
  const rb = await RingBuffer.create({ size: 1 << 20 });
  let onRecord: (data: Uint8Array) => void = none;
  const consumer = new RingBufferConsumer(rb, (data) => onRecord(data));
  const drain = (): void => {
    onRecord = none;
    consumer.consume();
  };
  // the readers' ring: a batch of text records written beforehand (untimed)
  const source = await RingBuffer.create({ size: 1 << 20 });
  let onSource: (data: Uint8Array) => void = none;
  const sourceConsumer = new RingBufferConsumer(source, (data) => onSource(data));
  const refill = (): void => {
    for (let i = 0; i < BATCH; i++) writeText(source, lines[i]!);
  };
  refill();
  let scratch = new Uint8Array(4096);

  const ENCODE = 'text → record: encode() + output()';
  const STRINGIFY = 'object → record: JSON.stringify() + encode() + output()';
  const DECODE = 'record → text: readText() (TextDecoder on the shared view, as Node allows)';
  const CLONE = 'object → object: structuredClone() (the copy postMessage makes)';
  // name, baseline, the timed batch, the untimed rest of the iteration
  const tasks: [string, string, () => void, () => void][] = [
    [
      ENCODE,
      '',
      () => {
        for (let i = 0; i < BATCH; i++) rb.output(encoder.encode(lines[i]!));
      },
      drain,
    ],
    [
      'text → record: utf8Length() + encodeInto() straight into the reservation',
      ENCODE,
      () => {
        for (let i = 0; i < BATCH; i++) {
          const s = lines[i]!;
          const n = utf8Length(s);
          const off = rb.reserveRaw(n);
          encoder.encodeInto(s, rb.bytes.subarray(off, off + n));
          rb.submitRaw(off);
        }
      },
      drain,
    ],
    [
      'text → record: writeText() (encodeInto() a private scratch, then one copy)',
      ENCODE,
      () => {
        for (let i = 0; i < BATCH; i++) writeText(rb, lines[i]!);
      },
      drain,
    ],
    [
      STRINGIFY,
      '',
      () => {
        for (let i = 0; i < BATCH; i++) rb.output(encoder.encode(JSON.stringify(objects[i])));
      },
      drain,
    ],
    [
      'object → record: writeJSON()',
      STRINGIFY,
      () => {
        for (let i = 0; i < BATCH; i++) writeJSON(rb, objects[i]);
      },
      drain,
    ],
    [
      DECODE,
      '',
      () => {
        onSource = (d) => void (sink += readText(d).length);
        sourceConsumer.consume();
      },
      refill,
    ],
    [
      'record → text: copy to private memory, then decode (what browsers need)',
      DECODE,
      () => {
        onSource = (d) => {
          if (scratch.length < d.length) scratch = new Uint8Array(d.length * 2);
          scratch.set(d);
          sink += decoder.decode(scratch.subarray(0, d.length)).length;
        };
        sourceConsumer.consume();
      },
      refill,
    ],
    [
      CLONE,
      '',
      () => {
        for (let i = 0; i < BATCH; i++) sink += (structuredClone(objects[i]) as LogObject).seq;
      },
      none,
    ],
    [
      'object → object: writeJSON() + readJSON() through the ring',
      CLONE,
      () => {
        for (let i = 0; i < BATCH; i++) writeJSON(rb, objects[i]);
        onRecord = (d) => void (sink += readJSON<LogObject>(d).seq);
        consumer.consume();
      },
      none,
    ],
  ];

  const rows: MicroRow[] = [];
  for (const [name, baseline, body, after] of tasks)
    rows.push({ name, ns: (await timeBatches(name, body, after, quick)).nsPerOp, baseline });
  if (sink === -1) console.log(sink); // keep the results alive
  consumer.close();
  sourceConsumer.close();
  return rows;
}

// ---- part 2: across threads ---------------------------------------------------------------

const CONTENDERS = {
  'ring, JSON records (writeJSON → readJSON)': 'json',
  'ring, text records (writeText → readText)': 'text',
  'postMessage, one object per message': 'post',
  'postMessage, one string per message': 'post-text',
  'postMessage, 64 objects per message': 'post-64',
} as const;
type Contender = keyof typeof CONTENDERS;
const BASELINE: Contender = 'postMessage, one object per message';

/** One worker sends `count` log objects by `via`; resolves with records per second, every one checked. */
async function transfer(via: string, count: number): Promise<number> {
  const rb = via === 'json' || via === 'text' ? await RingBuffer.create({ size: 1 << 20 }) : null;
  const worker = new Worker(new URL('./codecs.worker.js', import.meta.url), {
    workerData: { handle: rb?.handle ?? null, count, via },
  });
  const exited = once(worker, 'exit');
  let next = 0;
  const check = (seq: number) => {
    if (seq !== next) throw new Error(`${via}: record ${seq} where ${next} was due`);
    next++;
  };
  let resolveDone!: () => void;
  const allReceived = new Promise<void>((r) => (resolveDone = r));
  const receive = (m: unknown): void => {
    if (m === 'ready' || m === 'done') return;
    if (via === 'post') check((m as LogObject).seq);
    else if (via === 'post-text') check((JSON.parse(m as string) as LogObject).seq);
    else for (const o of m as LogObject[]) check(o.seq);
    if (next === count) resolveDone();
  };
  await new Promise<void>((ready, fail) => {
    worker.once('error', fail);
    worker.on('message', (m) => (m === 'ready' ? ready() : receive(m)));
  });
  const t0 = performance.now();
  worker.postMessage('go');
  if (rb !== null) {
    const consumer = new RingBufferConsumer(
      rb,
      via === 'json' ? (d) => check(readJSON<LogObject>(d).seq) : (d) => check(JSON.parse(readText(d)).seq),
    );
    while (next < count) await consumer.poll(100);
    consumer.close();
  } else {
    await allReceived;
  }
  const ms = performance.now() - t0;
  await exited;
  return (count / ms) * 1000;
}

async function crossThread(): Promise<{
  count: number;
  rounds: number;
  perSecond: Record<Contender, number>;
  ratio: Record<Contender, number>;
}> {
  const count = quick ? 5000 : 100_000;
  const rounds = quick ? 1 : 3;
  const names = Object.keys(CONTENDERS) as Contender[];
  const samples = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<Contender, number[]>;
  const ratios = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<Contender, number[]>;
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? names : [...names].reverse();
    const got = {} as Record<Contender, number>;
    for (const name of order) got[name] = await transfer(CONTENDERS[name], count);
    for (const name of names) {
      samples[name].push(got[name]);
      ratios[name].push(got[name] / got[BASELINE]);
    }
  }
  return {
    count,
    rounds,
    perSecond: Object.fromEntries(names.map((n) => [n, median(samples[n])])) as Record<Contender, number>,
    ratio: Object.fromEntries(names.map((n) => [n, median(ratios[n])])) as Record<Contender, number>,
  };
}

// ---- report -------------------------------------------------------------------------------

const rows = await micro();
const cross = await crossThread();
const fmt = (n: number) =>
  n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(0)} k` : n.toFixed(0);
const machine = `${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.versions.node}, load average ${loadavg()[0]!.toFixed(1)}`;
const ns = new Map(rows.map((r) => [r.name, r.ns]));
console.log(`# Text and JSON records (${quick ? 'quick run; ' : ''}${machine})\n`);
console.log(
  `One thread, ${BATCH} records per batch, ~${Math.round(logLine(1).length)} B lines; median ns per record:\n`,
);
console.log('| operation | ns / record | ÷ baseline (lower is faster) |');
console.log('| --- | ---: | ---: |');
for (const r of rows)
  console.log(
    `| ${r.name} | ${r.ns.toFixed(0)} | ${r.baseline ? (r.ns / ns.get(r.baseline)!).toFixed(2) : 'baseline'} |`,
  );
console.log(
  `\nAcross threads: one worker sends ${cross.count.toLocaleString('en-US')} log objects, the main thread receives and checks each; median of ${cross.rounds}:\n`,
);
console.log('| path | records / s | ÷ postMessage, one object per message |');
console.log('| --- | ---: | ---: |');
for (const name of Object.keys(CONTENDERS) as Contender[])
  console.log(`| ${name} | ${fmt(cross.perSecond[name])} | ${cross.ratio[name].toFixed(2)} |`);
if (jsonOut) writeFileSync(jsonOut, `${JSON.stringify({ machine, quick, micro: rows, cross }, null, 2)}\n`);
