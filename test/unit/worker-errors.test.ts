import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { RingBuffer } from 'wasm-ringbuf';

describe('bad input from inside a worker', () => {
  it('is a typed error there too, and leaves the ring untouched', async () => {
    const rb = await RingBuffer.create({ size: 4096 });
    const worker = new Worker(new URL('../fixtures/bad-input.mjs', import.meta.url), {
      workerData: { handle: rb.handle },
    });
    const exited = once(worker, 'exit');
    const [{ results, unchanged }] = (await once(worker, 'message')) as [
      { results: Record<string, string>; unchanged: boolean },
    ];
    await exited;
    expect(unchanged).toBe(true);
    expect(Object.keys(results)).toHaveLength(18);
    for (const [call, outcome] of Object.entries(results)) {
      expect(outcome, call).toMatch(/^RingBuffer(Range|Type|State)Error: \S/);
    }
    expect(results['reserve("8")']).toMatch(/^RingBufferTypeError: record length must be a number/);
    expect(results['reserve(size)']).toMatch(/largest payload is 4080 bytes/);
    expect(results['output(bytes, 4)']).toMatch(/^RingBufferRangeError: unknown commit flags 4/);
    expect(results['attach(wrong kind)']).toMatch(/^RingBufferTypeError: not a wasm-ringbuf handle/);
  });
});
