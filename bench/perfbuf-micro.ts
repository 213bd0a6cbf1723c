// Single-thread costs behind docs/perfbuf.md: what a stamp costs a producer
// (the shared counter this package uses, against a clock), and what one
// record costs each producer path and each consumer. One thread, no
// contention: the cross-thread figures are in the main benchmark.
//
//   node build/bench/perfbuf-micro.js

import { FairConsumer, PerfBuffer, PerfBufferConsumer, RingBuffer, RingBufferConsumer } from 'wasm-ringbuf';

const N = 2_000_000;

function time(label: string, n: number, f: () => void): void {
  f(); // warm up
  const t0 = performance.now();
  f();
  const ns = ((performance.now() - t0) * 1e6) / n;
  console.log(`| ${label} | ${ns.toFixed(1)} |`);
}

console.log('| operation | ns per record |\n| --- | ---: |');

// --- stamps --------------------------------------------------------------
const control = new Int32Array(new SharedArrayBuffer(256));
let sink = 0;
time('stamp: shared counter (LOW = COUNTER; fetch_add; LOW = IDLE)', N, () => {
  for (let i = 0; i < N; i++) {
    Atomics.store(control, 32, Atomics.load(control, 16));
    sink ^= Atomics.add(control, 16, 2);
    Atomics.store(control, 32, 1);
  }
});
time('stamp: fetch_add alone', N, () => {
  for (let i = 0; i < N; i++) sink ^= Atomics.add(control, 16, 2);
});
const big = new BigInt64Array(new SharedArrayBuffer(64));
time('stamp: 64-bit fetch_add (BigInt64Array, allocates)', N, () => {
  for (let i = 0; i < N; i++) sink ^= Number(Atomics.add(big, 0, 1n)) & 1;
});
time('stamp: clock (performance.timeOrigin + performance.now())', N, () => {
  for (let i = 0; i < N; i++) sink ^= (performance.timeOrigin + performance.now()) & 1;
});
time('stamp: clock + LOW stores (the watermark a clock needs too)', N, () => {
  for (let i = 0; i < N; i++) {
    const t = performance.now();
    Atomics.store(control, 32, t | 0);
    sink ^= t & 1;
    Atomics.store(control, 32, 1);
  }
});

// --- producer paths, 64-byte records, the ring drained between laps -------
const SIZE = 1 << 20;
const LAP = 8192; // records per lap: fits every ring below
const rec = new Uint8Array(64);
async function producerCost(label: string, p: { bytes: Uint8Array; reserveRaw(n: number): number; submitRaw(o: number, f?: number): void }, drain: () => void): Promise<void> {
  time(label, N, () => {
    for (let i = 0; i < N; i += LAP) {
      for (let j = 0; j < LAP; j++) {
        const off = p.reserveRaw(64);
        p.bytes.set(rec, off);
        p.submitRaw(off, 1);
      }
      drain();
    }
  });
}
const rb = await RingBuffer.create({ size: SIZE });
const rbc = new RingBufferConsumer().addRaw(rb, () => {});
await producerCost('produce: RingBuffer raw, lock (+ its drain)', rb, () => rbc.consume());
const single = await RingBuffer.create({ size: SIZE, singleProducer: true });
const sc = new RingBufferConsumer().addRaw(single, () => {});
await producerCost('produce: RingBuffer raw, singleProducer (+ its drain)', single, () => sc.consume());
for (const ordered of [false, true]) {
  const pb = await PerfBuffer.create({ producers: 1, size: SIZE, ordered });
  const p = await PerfBuffer.attach(pb.handle, 0);
  const c = new PerfBufferConsumer(pb, { ordered, sampleRaw: () => {} });
  await producerCost(`produce: PerfBuffer ${ordered ? 'ordered' : 'unordered'} (+ its drain)`, p, () => c.consume());
}

// --- consumers: drain 4 rings of LAP records each -------------------------
async function consumerCost(label: string, ordered: boolean | 'ring' | 'fair'): Promise<void> {
  const pb = await PerfBuffer.create({ producers: 4, size: SIZE, ordered: ordered === true });
  const ps = await Promise.all([0, 1, 2, 3].map((k) => PerfBuffer.attach(pb.handle, k)));
  const fill = (): void => {
    for (let j = 0; j < LAP; j++) ps[j & 3]!.output(rec, 1);
  };
  let consume: () => number;
  if (ordered === 'ring') {
    const c = new RingBufferConsumer();
    for (const r of pb.rings) c.addRaw(r, () => {});
    consume = () => c.consume();
  } else if (ordered === 'fair') {
    const c = new FairConsumer();
    for (const r of pb.rings) c.addRaw(r, () => {});
    consume = () => c.consume();
  } else {
    const c = new PerfBufferConsumer(pb, { ordered, sampleRaw: () => {} });
    consume = () => c.consume();
  }
  let fillMs = 0;
  let total = 0;
  const t = (): void => {
    for (let i = 0; i < N; i += LAP) {
      const t0 = performance.now();
      fill();
      fillMs += performance.now() - t0;
      total += consume();
    }
  };
  t();
  fillMs = 0;
  const t0 = performance.now();
  t();
  const ns = ((performance.now() - t0 - fillMs) * 1e6) / N;
  console.log(`| consume: ${label}, 4 rings | ${ns.toFixed(1)} |`);
}
await consumerCost('RingBufferConsumer', 'ring');
await consumerCost('FairConsumer', 'fair');
await consumerCost('PerfBufferConsumer unordered', false);
await consumerCost('PerfBufferConsumer ordered merge', true);
if (sink === 0.5) console.log(sink);
