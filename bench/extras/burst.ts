// Burst absorption, the argument the BPF ring buffer was made on: N producers
// that burst one at a time (producer k writes B records as fast as it can
// while the others are idle; once the consumer has drained them, the next
// producer bursts), with the same total memory given either to one shared
// ring or split into N per-producer rings (`singleProducer: true`, size / N
// each, all added to one RingBufferConsumer). A record that finds no room is
// dropped, not retried. The consumer runs on the main thread in `poll()`.
// Reported: the drop rate of each layout as B grows, B given in multiples of
// a per-producer ring's capacity in records.

import { RingBuffer, RingBufferConsumer, type RingBufferHandle } from 'wasm-ringbuf';
import { median, waitFor, type StepOptions } from '../util.js';
import { RecordTemplate, rawWriter, spawn, type Spawned } from '../harness.js';

const RECORD = 64;
const STRIDE = (RECORD + 15) & ~7;

// control words
const TURN = 0; // global burst number now allowed to run
const SENT = 1; // records written (not dropped) so far, all producers
const RECV = 2; // records the consumer has taken
const READY = 3; // producers attached
const FIRST_DROPS = 8; // drops per burst size: FIRST_DROPS + size index

/** One burst size: the drop rate of each layout. */
export interface BurstRow {
  producers: number;
  /** Records per burst. */
  burst: number;
  /** burst / capacity of one per-producer ring. */
  burstVsPerProducerCapacity: number;
  /** Dropped / attempted over every burst, median over runs. */
  sharedDropRate: number;
  perProducerDropRate: number;
}

export interface BurstResult {
  /** Bytes of ring memory in all, for either layout. */
  totalBytes: number;
  recordSize: number;
  runs: number;
  /** Bursts per producer per burst size. */
  burstsPerProducer: number;
  /** Records one ring holds: capacity.shared for the shared ring, capacity.perProducer[N] for one of N rings. */
  capacity: { shared: number; perProducer: Record<number, number> };
  rows: BurstRow[];
}

interface ProducerData {
  handle: RingBufferHandle;
  index: number;
  producers: number;
  bursts: number[];
  burstsPerProducer: number;
  ctl: SharedArrayBuffer;
}

/** Records a ring of `size` bytes holds: a reservation fails past size − 1 bytes in use. */
function capacity(size: number): number {
  return Math.floor((size - 1) / STRIDE);
}

/** Worker role 'burst-producer'. */
export async function burstProducer(data: ProducerData): Promise<void> {
  const rb = await RingBuffer.attach(data.handle);
  const ctl = new Int32Array(data.ctl);
  const write = rawWriter(rb);
  const record = new RecordTemplate(RECORD, data.index);
  Atomics.add(ctl, READY, 1);
  Atomics.notify(ctl, READY);
  const n = data.producers;
  for (const [bi, burst] of data.bursts.entries()) {
    for (let j = 0; j < data.burstsPerProducer; j++) {
      const g = (bi * data.burstsPerProducer + j) * n + data.index;
      waitFor(ctl, TURN, (v) => v === g, 30_000, `burst turn ${g}`);
      let drops = 0;
      for (let i = 0; i < burst; i++) if (!write(record.stamp(i), 0 /* adaptive wakeups */)) drops++;
      Atomics.add(ctl, FIRST_DROPS + bi, drops);
      const sent = Atomics.add(ctl, SENT, burst - drops) + burst - drops;
      // the next burst starts on empty rings: wait for the consumer to take this one
      waitFor(ctl, RECV, (v) => v >= sent, 30_000, 'the consumer to drain the burst');
      Atomics.store(ctl, TURN, g + 1);
      Atomics.notify(ctl, TURN);
    }
  }
}

/** One run of one layout: drops per burst size. */
async function once(layout: 'shared' | 'per-producer', producers: number, totalBytes: number, bursts: number[], perProducer: number): Promise<number[]> {
  const rings: RingBuffer[] = [];
  if (layout === 'shared') rings.push(await RingBuffer.create({ size: totalBytes, maxRecord: RECORD }));
  else for (let k = 0; k < producers; k++) rings.push(await RingBuffer.create({ size: totalBytes / producers, maxRecord: RECORD, singleProducer: true }));
  const ctl = new Int32Array(new SharedArrayBuffer(4 * (FIRST_DROPS + bursts.length)));
  const workers: Spawned[] = [];
  let failed: unknown = null;
  let got = 0;
  const consumer = new RingBufferConsumer();
  for (const rb of rings) consumer.addRaw(rb, () => void got++);
  try {
    for (let k = 0; k < producers; k++) {
      const handle = rings[layout === 'shared' ? 0 : k]!.handle;
      const w = spawn('burst-producer', { handle, index: k, producers, bursts, burstsPerProducer: perProducer, ctl: ctl.buffer } satisfies ProducerData);
      w.exited.catch((e: unknown) => (failed ??= e));
      workers.push(w);
    }
    const total = bursts.length * perProducer * producers;
    const deadline = performance.now() + 120_000;
    while (Atomics.load(ctl, TURN) < total) {
      await consumer.poll(20);
      Atomics.store(ctl, RECV, got);
      Atomics.notify(ctl, RECV); // pairs with the wait on RECV in burstProducer()
      if (failed !== null) throw failed;
      if (performance.now() > deadline) throw new Error('burst: the run did not finish in 120 s');
    }
    await Promise.all(workers.map((w) => w.exited));
    const drops = bursts.map((_, bi) => Atomics.load(ctl, FIRST_DROPS + bi));
    const counted = rings.reduce((sum, rb) => sum + rb.stats().dropped, 0);
    const mine = drops.reduce((a, b) => a + b, 0);
    if (counted !== mine) throw new Error(`burst: the rings counted ${counted} drops, the producers ${mine}`);
    if (got !== Atomics.load(ctl, SENT)) throw new Error(`burst: ${Atomics.load(ctl, SENT)} records written, ${got} consumed`);
    return drops;
  } finally {
    await Promise.all(workers.map((w) => w.worker.terminate()));
  }
}

/**
 * Drop rate of one shared ring vs N per-producer rings of the same total
 * size, as the burst size grows, for N = 2 and 4.
 */
export async function runBurstAbsorption(options: StepOptions): Promise<BurstResult> {
  const totalBytes = 1 << 16;
  const runs = options.quick ? 1 : 3;
  const burstsPerProducer = options.quick ? 3 : 8;
  const multiples = [0.125, 0.25, 0.5, 1, 2, 4];
  const rows: BurstRow[] = [];
  const perProducerCap: Record<number, number> = {};
  for (const producers of options.quick ? [4] : [2, 4]) {
    const cap = capacity(totalBytes / producers);
    perProducerCap[producers] = cap;
    const bursts = multiples.map((m) => Math.max(1, Math.round(m * cap)));
    const attempted = burstsPerProducer * producers;
    const rates = { shared: bursts.map(() => [] as number[]), 'per-producer': bursts.map(() => [] as number[]) };
    for (let run = 1; run <= runs; run++) {
      for (const layout of ['shared', 'per-producer'] as const) {
        options.progress?.(`burst · ${producers} producers · ${layout} · run ${run}/${runs}`);
        const drops = await once(layout, producers, totalBytes, bursts, burstsPerProducer);
        drops.forEach((d, bi) => rates[layout][bi]!.push(d / (attempted * bursts[bi]!)));
      }
    }
    bursts.forEach((burst, bi) => {
      rows.push({
        producers, burst, burstVsPerProducerCapacity: multiples[bi]!,
        sharedDropRate: median(rates.shared[bi]!), perProducerDropRate: median(rates['per-producer'][bi]!),
      });
    });
  }
  return { totalBytes, recordSize: RECORD, runs, burstsPerProducer, capacity: { shared: capacity(totalBytes), perProducer: perProducerCap }, rows };
}
