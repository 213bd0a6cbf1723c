// Scribbles on the shared memory: the consumer must stop with a clear error
// naming the position — never read out of bounds, loop forever or crash.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RingBuffer, RingBufferConsumer, RingBufferCorruptError } from 'wasm-ringbuf';
import { DATA_OFFSET, OFF_CONSUMER_POS, OFF_PRODUCER_POS, RING_BASE } from '../../dist/layout.js';

const DATA = RING_BASE + DATA_OFFSET;

async function ringWithRecords(n = 4) {
  const rb = await RingBuffer.create({ size: 4096, maxRecord: 1024 });
  for (let i = 0; i < n; i++) rb.output(new Uint8Array(20).fill(i));
  const view = new DataView(rb.bytes.buffer);
  const got: number[] = [];
  const c = new RingBufferConsumer(rb, (d) => void got.push(d[0]!));
  return { rb, view, c, got };
}

function expectCorrupt(f: () => unknown, position: number, message: RegExp) {
  let error: unknown;
  try {
    f();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(RingBufferCorruptError);
  expect((error as RingBufferCorruptError).position).toBe(position);
  expect((error as Error).message).toMatch(message);
  expect((error as Error).message).toContain(`position ${position}`);
}

describe('a corrupted ring stops the consumer with a clear error', () => {
  it('a length past the largest record', async () => {
    const { view, c, got } = await ringWithRecords();
    view.setUint32(DATA + 64, 5000, true); // third record's header (records are 32 bytes apart)
    expectCorrupt(() => c.consume(), 64, /length 5000 exceeds the largest record \(1024\)/);
    expect(got).toEqual([0, 1]); // everything before it was delivered
    expectCorrupt(() => c.consume(), 64, /length 5000/); // and it stays stopped there
  });

  it('a length that runs past the producer position', async () => {
    const { view, c } = await ringWithRecords();
    view.setUint32(DATA + 3 * 32, 200, true);
    expectCorrupt(() => c.consume(), 3 * 32, /runs past the producer position 128/);
  });

  it('BUSY and DISCARD together', async () => {
    const { view, c } = await ringWithRecords();
    view.setUint32(DATA, 0xc0000014, true);
    expectCorrupt(() => c.consume(), 0, /both BUSY and DISCARD/);
  });

  it('a producer position that went backwards or ran more than a ring ahead', async () => {
    const a = await ringWithRecords();
    a.c.consume();
    a.view.setBigUint64(RING_BASE + OFF_PRODUCER_POS, 64n, true);
    expectCorrupt(() => a.c.consume(), 128, /producer position 64 is behind the consumer/);
    const b = await ringWithRecords();
    b.view.setBigUint64(RING_BASE + OFF_PRODUCER_POS, 10_000n, true);
    expectCorrupt(() => b.c.consume(), 0, /more than a ring ahead/);
  });

  it('a consumer position written by someone else', async () => {
    const { view, c } = await ringWithRecords();
    view.setBigUint64(RING_BASE + OFF_CONSUMER_POS, 8n, true);
    expectCorrupt(() => c.consume(), 0, /consumer position was changed to 8 outside this consumer/);
  });

  it('random bit flips in headers and positions: records or a RingBufferCorruptError, nothing else', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ word: fc.integer({ min: 0, max: 31 }), bit: fc.integer({ min: 0, max: 31 }) }), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.boolean(),
        async (flips, positions) => {
          const { rb, view, c } = await ringWithRecords(8);
          for (const { word, bit } of flips) {
            const addr =
              positions && word < 4
                ? RING_BASE + (word < 2 ? OFF_PRODUCER_POS : OFF_CONSUMER_POS) + (word & 1) * 4
                : DATA + word * 8;
            view.setUint32(addr, view.getUint32(addr, true) ^ (1 << bit), true);
          }
          for (let i = 0; i < 3; i++) {
            try {
              const n = c.consume();
              expect(n).toBeGreaterThanOrEqual(0);
              // a flip that forms a plausible header cannot be told from a record; at most a ring of empty ones
              expect(n).toBeLessThanOrEqual(4096 / 8);
            } catch (e) {
              expect(e).toBeInstanceOf(RingBufferCorruptError);
            }
          }
          void rb;
        },
      ),
      { numRuns: 300 },
    );
  });
});
