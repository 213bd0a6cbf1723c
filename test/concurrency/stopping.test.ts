// However a reader stops, nothing is lost: a reader moves the consumer
// position only past records it has handed to the user, so the untaken rest
// stays in the ring, in order, for the next reader of that ring; a record that
// cannot stay (overwrite mode moved past it) is counted as lost and reported
// with the next record a reader sees.
//
// Each run: 1-2 worker producers write sequenced, checksummed records into one
// ring; a first reader (readRecords, readBatches, createReadableStream or a
// RingBufferConsumer) takes some and stops in one of the ways a user can stop
// it; a fresh reader on the same ring then takes the rest. Every record handed
// to either is checked, in the order it was handed: intact, each producer's in
// order, nothing duplicated, every gap equal to the losses reported at its
// place, and handed + lost == produced.
//
// SOAK=1 runs ten times more cases; SEED=n replays a failing property run;
// SHRINK=1 shrinks a counterexample (off by default: each try runs workers).
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BPF_RB_AVAIL_DATA,
  RingBuffer,
  RingBufferConsumer,
  createReadableStream,
  readBatches,
  readRecords,
  type RecordIterator,
} from 'wasm-ringbuf';
import { watchdog } from '../helpers/run.js';
import { HandedChecker, startSeqProducers, type Handed } from '../helpers/seq-producers.js';
import { scaled } from '../helpers/workers.js';

const RECORDS = 3000; // per run, over all producers
const [MIN, MAX] = [12, 200];
const PHASE_MS = 20_000; // a failure bound on each reader, never a wait

type Kind = 'records' | 'batches' | 'stream' | 'consumer';
type Stop =
  | 'break'
  | 'return'
  | 'throw'
  | 'body-throw'
  | 'abort-pending'
  | 'abort-idle'
  | 'ring-close'
  | 'stream-cancel'
  | 'reader-cancel'
  | 'close-in-callback'
  | 'close-between';
interface Way {
  kind: Kind;
  stop: Stop;
}

const ITERATOR_STOPS: Stop[] = ['break', 'return', 'throw', 'body-throw', 'abort-pending', 'abort-idle', 'ring-close'];
const WAYS: Way[] = [
  ...ITERATOR_STOPS.map((stop) => ({ kind: 'records' as const, stop })),
  ...ITERATOR_STOPS.map((stop) => ({ kind: 'batches' as const, stop })),
  ...(['stream-cancel', 'reader-cancel', 'break', 'abort-pending', 'abort-idle', 'ring-close'] as const).map(
    (stop) => ({ kind: 'stream' as const, stop }),
  ),
  ...(['close-in-callback', 'close-between', 'ring-close'] as const).map((stop) => ({
    kind: 'consumer' as const,
    stop,
  })),
];

interface Scenario {
  way: Way;
  /** The reader's maxBatch (a RingBufferConsumer: its callback returns -1 every maxBatch records); undefined: the default. */
  maxBatch: number | undefined;
  overwrite: boolean;
  producers: number;
  /** Records the first reader takes before it stops (overwrite mode: modulo 200, as fewer reach it). */
  take: number;
  /** ring-close: records read after the RingBuffer object is closed, before the reader stops. */
  more: number;
  /** The fresh reader. */
  next: 'records' | 'consumer';
  size: number;
  /** Producers pause every `burst` records (0: never). */
  burst: number;
  api: 'reserve' | 'output';
  /** abort-pending: abort after a turn of the event loop (the next() may be asleep in poll) rather than at once. */
  turn: boolean;
  /** 'full': the first reader starts once the ring has filled (a producer waited for room, or overwrote), so its first pass is a long one. */
  start: 'live' | 'full';
  seed: number;
}

const scenario = (way?: Way): fc.Arbitrary<Scenario> =>
  fc.record({
    way: way === undefined ? fc.constantFrom(...WAYS) : fc.constant(way),
    maxBatch: fc.oneof(fc.constant(undefined), fc.integer({ min: 1, max: 2000 })),
    overwrite: fc.boolean(),
    producers: fc.integer({ min: 1, max: 2 }),
    take: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 1500 })),
    more: fc.integer({ min: 0, max: 200 }),
    next: fc.constantFrom('records' as const, 'consumer' as const),
    size: fc.constantFrom(4096, 16384),
    burst: fc.constantFrom(0, 16, 128),
    api: fc.constantFrom('reserve' as const, 'output' as const),
    turn: fc.boolean(),
    start: fc.constantFrom('live' as const, 'full' as const),
    seed: fc.integer({ min: 1, max: 0x7fffffff }),
  });

/** Runs that stop in the middle of the first reader's first, long pass, with and without overwrite. */
const examples = (way: Way): [Scenario][] =>
  [false, true].map((overwrite) => [
    {
      way,
      maxBatch: undefined,
      overwrite,
      producers: 1,
      take: 3,
      more: 5,
      next: 'records',
      size: 4096,
      burst: 0,
      api: 'reserve',
      turn: false,
      start: 'full',
      seed: 1,
    },
  ]);

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
const mapFor =
  (reader: number) =>
  (data: Uint8Array, lost: number): Handed => ({ bytes: data.slice(), lost, reader });

/** A read after the reading was aborted: it must end (reject with the reason, or be done), never hand a record. */
async function expectEnded(
  read: Promise<{ done?: boolean; value?: unknown }>,
  reason: unknown,
  what: string,
): Promise<void> {
  const r = await read.then(
    (v) => v,
    (err: unknown) => {
      if (err !== reason) throw err;
      return { done: true };
    },
  );
  expect(r.done, `${what} after the abort handed a record`).toBe(true);
}

/** The first reader: takes records into `handed` and stops as `s` says; returns a function that closes it on failure. */
async function firstReader(
  rb: RingBuffer,
  s: Scenario,
  finished: Promise<unknown>,
  handed: Handed[],
  cleanup: (() => unknown)[],
): Promise<void> {
  const { kind, stop } = s.way;
  const take = s.overwrite ? s.take % 200 : s.take;
  const ring = stop === 'ring-close' ? await RingBuffer.attach(rb.handle) : rb;
  const ac = new AbortController();
  const reason = new Error('stopped by the test');
  const options = {
    map: mapFor(1),
    until: finished,
    ...(s.maxBatch === undefined ? {} : { maxBatch: s.maxBatch }),
    ...(stop.startsWith('abort') ? { signal: ac.signal } : {}),
  };
  const handUnit = (v: Handed | Handed[]) => (Array.isArray(v) ? handed.push(...v) : handed.push(v));

  if (kind === 'records' || kind === 'batches') {
    const it: RecordIterator<Handed | Handed[]> =
      kind === 'records' ? readRecords(ring, options) : readBatches(ring, options);
    cleanup.push(() => it.close());
    /** Takes units until `k` records were handed; true if the iteration ended first. */
    const pull = async (k: number): Promise<boolean> => {
      while (handed.length < k) {
        const r = await it.next();
        if (r.done) return true;
        handUnit(r.value);
      }
      return false;
    };
    switch (stop) {
      case 'break':
        for await (const v of it) {
          handUnit(v);
          if (handed.length >= take) break;
        }
        return;
      case 'body-throw': {
        const oops = new Error('thrown in the loop body');
        try {
          for await (const v of it) {
            handUnit(v);
            if (handed.length >= take) throw oops;
          }
        } catch (err) {
          if (err !== oops) throw err;
        }
        return;
      }
      case 'return':
        await pull(take);
        expect(await it.return()).toEqual({ done: true, value: undefined });
        return;
      case 'throw': {
        await pull(take);
        expect(typeof it.throw, 'the iterator has a throw() method').toBe('function');
        const err = new Error('thrown into the iterator');
        const r = await it.throw!(err).then(
          (v) => v,
          (e: unknown) => {
            if (e !== err) throw e;
            return { done: true as const, value: undefined };
          },
        );
        expect(r.done, 'throw() ends the iteration').toBe(true);
        return;
      }
      case 'abort-pending': {
        if (await pull(take)) return;
        const pending = it.next();
        if (s.turn) await turn();
        ac.abort(reason);
        const r = await pending.then(
          (v) => v,
          (e: unknown) => {
            if (e !== reason) throw e;
            return null;
          },
        );
        if (r !== null && !r.done) handUnit(r.value);
        await expectEnded(it.next(), reason, 'next()');
        return;
      }
      case 'abort-idle':
        if (await pull(take)) return;
        ac.abort(reason);
        await expectEnded(it.next(), reason, 'next()');
        return;
      case 'ring-close': {
        const ended = await pull(take);
        ring.close();
        if (!ended && !(await pull(take + s.more))) await it.return();
        return;
      }
      default:
        throw new Error(`no stop ${stop} for ${kind}`);
    }
  }

  if (kind === 'stream') {
    const stream = createReadableStream(ring, options) as unknown as WebReadableStream<Handed>;
    if (stop === 'break') {
      cleanup.push(() => stream.cancel().catch(() => {}));
      for await (const v of stream) {
        handUnit(v);
        if (handed.length >= take) break;
      }
      return;
    }
    const reader = stream.getReader();
    let released = false;
    cleanup.push(() => (released ? stream.cancel() : reader.cancel()).catch(() => {}));
    const pull = async (k: number): Promise<boolean> => {
      while (handed.length < k) {
        const r = await reader.read();
        if (r.done) return true;
        handUnit(r.value);
      }
      return false;
    };
    switch (stop) {
      case 'stream-cancel':
        await pull(take);
        reader.releaseLock();
        released = true;
        await stream.cancel();
        return;
      case 'reader-cancel':
        await pull(take);
        await reader.cancel();
        return;
      case 'abort-pending': {
        if (await pull(take)) return;
        const pending = reader.read();
        if (s.turn) await turn();
        ac.abort(reason);
        const r = await pending.then(
          (v) => v,
          (e: unknown) => {
            if (e !== reason) throw e;
            return null;
          },
        );
        if (r !== null && !r.done) handUnit(r.value);
        await expectEnded(reader.read(), reason, 'read()');
        return;
      }
      case 'abort-idle':
        if (await pull(take)) return;
        ac.abort(reason);
        await expectEnded(reader.read(), reason, 'read()');
        return;
      case 'ring-close': {
        const ended = await pull(take);
        ring.close();
        if (!ended) await pull(take + s.more);
        await reader.cancel();
        return;
      }
      default:
        throw new Error(`no stop ${stop} for ${kind}`);
    }
  }

  // a RingBufferConsumer
  const ended = new AbortController();
  void finished.then(
    () => ended.abort(),
    () => ended.abort(),
  );
  let closed = false;
  let afterClose = 0;
  const consumer: RingBufferConsumer = new RingBufferConsumer(ring, (data, lost) => {
    if (closed) afterClose++;
    handed.push({ bytes: data.slice(), lost, reader: 1 });
    const n = handed.length;
    if (stop === 'close-in-callback' && n === take + 1) {
      consumer.close();
      closed = true;
    }
    if (stop === 'ring-close' && n === take) ring.close();
    return s.maxBatch !== undefined && n % s.maxBatch === 0 ? -1 : undefined;
  });
  cleanup.push(() => consumer.close());
  const limit = stop === 'close-between' ? take : stop === 'ring-close' ? take + s.more : Infinity;
  // a pass in which the callback closed the consumer may end by throwing ERR_RINGBUF_CLOSED
  const closedNow = (err: unknown) => closed && (err as { code?: string }).code === 'ERR_RINGBUF_CLOSED';
  while (!closed && handed.length < limit) {
    if (ended.signal.aborted) {
      // the producers are done: what is committed now is all there is
      let n = 0;
      try {
        n = consumer.consume();
      } catch (err) {
        if (!closedNow(err)) throw err;
      }
      if (n === 0) break;
      continue;
    }
    try {
      await consumer.poll(-1, { signal: ended.signal });
    } catch (err) {
      if (!(ended.signal.aborted && (err as Error).name === 'AbortError') && !closedNow(err)) throw err;
    }
  }
  if (stop === 'ring-close') ring.close();
  consumer.close();
  closed = true;
  expect(afterClose, `records handed to the callback after it called close() (at record ${take})`).toBe(0);
}

/** The fresh reader: every record left, up to the end marker written once the producers are done. */
async function nextReader(
  rb: RingBuffer,
  kind: 'records' | 'consumer',
  marker: Promise<unknown>,
  handed: Handed[],
): Promise<void> {
  if (kind === 'records') {
    for await (const h of readRecords(rb, { map: mapFor(2), until: marker })) handed.push(h);
    return;
  }
  const ended = new AbortController();
  void marker.then(
    () => ended.abort(),
    () => ended.abort(),
  );
  const consumer = new RingBufferConsumer(
    rb,
    (data, lost) => void handed.push({ bytes: data.slice(), lost, reader: 2 }),
  );
  try {
    while (!ended.signal.aborted) {
      try {
        await consumer.poll(-1, { signal: ended.signal });
      } catch (err) {
        if (!(ended.signal.aborted && (err as Error).name === 'AbortError')) throw err;
      }
    }
    while (consumer.consume() > 0);
  } finally {
    consumer.close();
  }
}

async function runScenario(s: Scenario): Promise<void> {
  const rb = await RingBuffer.create({ size: s.size, overwrite: s.overwrite });
  const count = RECORDS / s.producers;
  const { producers, go, stop } = startSeqProducers(rb.handle, s.producers, {
    seed: s.seed,
    count,
    min: MIN,
    max: MAX,
    mode: s.overwrite ? 'skip' : 'wait',
    api: s.api,
    burst: s.burst,
  });
  const handed: Handed[] = [];
  const cleanup: (() => unknown)[] = [];
  const what = () => `${JSON.stringify(s)}: ${handed.length} records handed so far`;
  try {
    const ids = await watchdog(
      Promise.all(producers.map((p) => p.ready)),
      PHASE_MS,
      () => `producers did not start: ${what()}`,
    );
    const finished = Promise.all(producers.map((p) => p.done));
    finished.catch(() => {});
    go();
    if (s.start === 'full') {
      let over = false;
      void finished.then(
        () => (over = true),
        () => (over = true),
      );
      const full = () => (s.overwrite ? rb.stats().overwritten > 0 : rb.stats().roomWaits > 0);
      await watchdog(
        (async () => {
          while (!full() && !over) await turn();
        })(),
        PHASE_MS,
        () => `the ring never filled: ${what()}`,
      );
    }
    await watchdog(
      firstReader(rb, s, finished, handed, cleanup),
      PHASE_MS,
      () => `the first reader did not stop: ${what()}`,
    );
    const first = handed.length;
    // once the producers are done, an end marker carries the losses after their last records
    const marker = finished.then(() => rb.outputAsync(new Uint8Array(0), 0, { timeoutMs: PHASE_MS }));
    await watchdog(nextReader(rb, s.next, marker, handed), PHASE_MS, () => `the fresh reader did not end: ${what()}`);
    const results = await finished;
    expect(await marker, 'the end marker was written').toBe(true);

    const checker = new HandedChecker(s.seed, ids, MIN, MAX, s.overwrite);
    for (const h of handed) checker.check(h);
    expect(checker.errors, `first reader handed ${first}`).toEqual([]);
    expect(checker.trailing, 'the end marker reached the fresh reader').toBeGreaterThanOrEqual(0);
    const attempts = results.reduce((n, r) => n + r.attempts, 0);
    const refused = results.reduce((n, r) => n + r.refused, 0);
    const stats = rb.stats();
    if (!s.overwrite) {
      expect(refused, 'records refused to producers that wait for room').toBe(0);
      expect(checker.lost, 'losses reported').toBe(0);
      for (const r of results)
        expect(checker.verifier.next.get(r.id), `records of producer ${r.id} handed`).toBe(count);
    } else {
      expect(stats.dropped).toBe(refused);
      expect(stats.overwritten + stats.dropped, 'records overwritten or refused == losses reported').toBe(checker.lost);
    }
    expect(checker.records + checker.lost, 'handed (first + fresh reader) + reported lost == produced').toBe(attempts);
    expect(rb.query(BPF_RB_AVAIL_DATA)).toBe(0);
  } finally {
    for (const f of cleanup) {
      try {
        await f();
      } catch {
        // closing what a failed run left open
      }
    }
    await stop();
  }
}

const options = (numRuns: number) => ({
  numRuns,
  endOnFailure: !process.env.SHRINK,
  ...(process.env.SEED === undefined ? {} : { seed: Number(process.env.SEED) }),
});

describe('however a reader stops, the next reader of the ring gets exactly the rest', () => {
  it(
    `a property over ways of stopping, readers, batch sizes, overwrite mode and stop points (${scaled(30)} runs)`,
    async () => {
      await fc.assert(fc.asyncProperty(scenario(), runScenario), options(scaled(30)));
    },
    scaled(240_000),
  );

  for (const way of WAYS) {
    it(
      `${way.kind}: ${way.stop}`,
      async () => {
        await fc.assert(fc.asyncProperty(scenario(way), runScenario), {
          ...options(scaled(3)),
          examples: examples(way),
        });
      },
      scaled(60_000),
    );
  }
});

describe('next() calls that overlap', () => {
  it('queue in order: Promise.all of 10 next() calls, again and again, yields every record once, in order', async () => {
    for (const maxBatch of [undefined, 1, 7, 300]) {
      const seed = (Date.now() ^ (maxBatch ?? 0)) >>> 0;
      const rb = await RingBuffer.create({ size: 4096 });
      const { producers, go, stop } = startSeqProducers(rb.handle, 1, {
        seed,
        count: 2000,
        min: MIN,
        max: MAX,
        mode: 'wait',
        burst: 64,
      });
      try {
        const ids = await Promise.all(producers.map((p) => p.ready));
        const finished = Promise.all(producers.map((p) => p.done));
        go();
        const it = readRecords(rb, {
          map: mapFor(1),
          until: finished,
          ...(maxBatch === undefined ? {} : { maxBatch }),
        });
        const handed: Handed[] = [];
        let done = false;
        let rounds = 0;
        await watchdog(
          (async () => {
            while (!done) {
              rounds++;
              const settled: number[] = [];
              const results = await Promise.all(
                Array.from({ length: 10 }, (_, k) => it.next().finally(() => settled.push(k))),
              );
              expect(settled, 'the order in which overlapping next() calls settle').toEqual([
                0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
              ]);
              for (const r of results) {
                if (r.done) done = true;
                else {
                  expect(done, 'a record after the iteration said it was done').toBe(false);
                  handed.push(r.value);
                }
              }
            }
          })(),
          PHASE_MS,
          () => `overlapping next() calls hung after ${handed.length} records`,
        );
        const checker = new HandedChecker(seed, ids, MIN, MAX, false);
        for (const h of handed) checker.check(h);
        expect(checker.errors, `maxBatch ${maxBatch}`).toEqual([]);
        expect(handed.length, `maxBatch ${maxBatch}`).toBe(2000);
        expect(rounds).toBeGreaterThanOrEqual(200);
      } finally {
        await stop();
      }
    }
  });
});

describe('one reader per ring', () => {
  it('a second reader on a ring that has one throws ERR_RINGBUF_CONSUMER_TAKEN at once, whatever the kinds', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    const open: Record<string, () => { close: () => unknown }> = {
      readRecords: () => readRecords(rb),
      readBatches: () => readBatches(rb),
      createReadableStream: () => {
        const s = createReadableStream(rb);
        return { close: () => s.cancel() };
      },
      RingBufferConsumer: () => new RingBufferConsumer(rb, () => {}),
    };
    for (const [a, first] of Object.entries(open)) {
      for (const [b, second] of Object.entries(open)) {
        const one = first();
        expect(() => second(), `${b} after ${a}`).toThrow(
          expect.objectContaining({ code: 'ERR_RINGBUF_CONSUMER_TAKEN' }),
        );
        await one.close();
        const two = second(); // the ring is free again
        await two.close();
      }
    }
  });
});
