// The demo's latency readout (examples/browser/median.js): a median of the
// last 8 ticks' medians, so that a burst or one slow tick does not move it.
import { describe, expect, it } from 'vitest';
import { movingMedian } from '../../examples/browser/median.js';

describe('the demo latency readout', () => {
  it('is NaN before any sample, then the median of recent ticks', () => {
    const m = movingMedian();
    expect(m.tick()).toBeNaN();
    m.add(2);
    m.add(4);
    m.add(3);
    expect(m.tick()).toBe(3);
  });

  it('one tick of outliers does not move it; a lasting change does, within the window', () => {
    const m = movingMedian(8);
    const tick = (values: number[]) => {
      for (const v of values) m.add(v);
      return m.tick();
    };
    for (let i = 0; i < 8; i++) tick([1, 1.2, 0.9]);
    expect(tick([50, 80, 60])).toBe(1); // a slow burst
    const after: number[] = [];
    for (let i = 0; i < 8; i++) after.push(tick([5, 5.5, 4.5]));
    expect(after[1]).toBe(1); // not yet: most of the window is still the old level
    expect(after[3]).toBe(5); // half the window (a second) at the new level moves it
    expect(after.at(-1)).toBe(5); // the whole window moved
    expect(new Set(after).size).toBeLessThanOrEqual(3); // no flicker on the way
  });

  it('keeps its value through ticks with no samples (an idle lane), and clamps clock skew at 0', () => {
    const m = movingMedian();
    m.add(-0.2);
    expect(m.tick()).toBe(0);
    m.add(7);
    m.tick();
    expect(m.tick()).toBe(m.tick());
  });
});
