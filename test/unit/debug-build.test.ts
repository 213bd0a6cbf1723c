// The debug build of the wasm core keeps the asserts that the release build
// drops (--noAssert): here they hold on a valid sequence and fire on a
// violated precondition.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DATA_OFFSET, RING_BASE } from '../../dist/layout.js';

async function debugRing() {
  const memory = new WebAssembly.Memory({ initial: 4, maximum: 4, shared: true });
  const aborts: number[] = [];
  const bytes = readFileSync(new URL('../../build/ringbuf.debug.wasm', import.meta.url));
  const { instance } = await WebAssembly.instantiate(bytes, {
    env: { memory, abort: (_msg: number, _file: number, line: number) => void aborts.push(line) },
  });
  const wasm = instance.exports as Record<string, (...args: number[]) => number>;
  const size = 4096;
  wasm.init!(RING_BASE, size, 1000, 0, 0);
  return { wasm, aborts, memory };
}

describe('the debug build', () => {
  it('runs reserve, commit and the consumer release without an assert firing', async () => {
    const { wasm, aborts } = await debugRing();
    const id = wasm.acquireId!(RING_BASE);
    for (let i = 0; i < 200; i++) {
      const at = wasm.reserve!(RING_BASE, 100, id, 1);
      expect(at).toBeGreaterThanOrEqual(RING_BASE + DATA_OFFSET);
      wasm.commit!(RING_BASE, at, 0, i % 3 === 0 ? 1 : 0, 0, id);
      const cons = wasm.query!(RING_BASE, 2);
      expect(wasm.advanceConsumer!(RING_BASE, cons, wasm.producerPos!(RING_BASE), 0, 1)).toBe(1);
    }
    expect(aborts).toEqual([]);
  });

  it('fires an assert on a length past the largest record, which the host checks in the release build', async () => {
    const { wasm, aborts } = await debugRing();
    expect(() => wasm.reserve!(RING_BASE, 2000, 1, 1)).toThrow(); // abort() then unreachable
    expect(aborts.length).toBe(1);
  });
});
