import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as layout from '../../dist/layout.js';

describe('memory layout', () => {
  it('carries every constant of assembly/layout.ts into the TypeScript side (scripts/gen-layout.mjs)', () => {
    const source = readFileSync(new URL('../../assembly/layout.ts', import.meta.url), 'utf8');
    const constants = [...source.matchAll(/^export const (\w+): \w+ = (0x[0-9a-f]+|\d+);/gim)];
    expect(constants.length).toBeGreaterThan(30);
    const ts = layout as unknown as Record<string, number>;
    for (const [, name, value] of constants) {
      expect(ts[name!], name).toBe(Number(value));
    }
  });

  it("keeps every hot word on its own 64-byte line, and what the lock guards on the lock's", () => {
    const lines = [
      layout.OFF_LOCK,
      layout.OFF_CONSUMER_POS,
      layout.OFF_WAIT,
      layout.OFF_ROOM_WAITERS,
      layout.OFF_DROPPED,
      layout.OFF_DISCARDED,
    ].map((o) => o >> 6);
    expect(new Set(lines).size).toBe(lines.length);
    // a reservation's whole state comes with the lock: one line moves between producers, not three
    for (const o of [layout.OFF_PRODUCER_POS, layout.OFF_PENDING_POS, layout.OFF_CONS_SEEN, layout.OFF_LOSS_BASE])
      expect(o >> 6, String(o)).toBe(layout.OFF_LOCK >> 6);
    expect(layout.DATA_OFFSET % 64).toBe(0);
  });

  it('builds a module with no data segment and no allocator', () => {
    const wat = readFileSync(new URL('../../build/ringbuf.wat', import.meta.url), 'utf8');
    expect(wat).toMatch(/\(import "env" "memory" \(memory \$0 \d+ \d+ shared\)\)/);
    expect(wat).not.toMatch(/\(data\b/);
    expect(wat).not.toMatch(/__new|__alloc/);
  });
});
