// The demo's latency readout (main.js), apart so that a test can check it in Node.

/**
 * A steady latency readout: samples go into a window of the last 256; each
 * tick of the sampling timer (4 a second) takes the median of the samples
 * that arrived since the last tick, and the readout is the median of the last
 * 8 of those (2 seconds), so one slow frame or burst does not make it jump.
 */
export function movingMedian(ticks = 8) {
  const samples = new Float64Array(256);
  let n = 0;
  let atTick = 0;
  const perTick = [];
  return {
    /** Adds a sample (milliseconds; clamped at 0, since two clocks are compared) and returns it. */
    add(ms) {
      const v = Math.max(0, ms);
      samples[n++ & 255] = v;
      return v;
    },
    /** Closes this tick's window; returns the readout (NaN before the first sample). */
    tick() {
      const fresh = Math.min(n - atTick, 256);
      atTick = n;
      if (fresh > 0) {
        const recent = [];
        for (let k = 1; k <= fresh; k++) recent.push(samples[(n - k) & 255]);
        perTick.push(median(recent));
        if (perTick.length > ticks) perTick.shift();
      }
      return perTick.length === 0 ? NaN : median(perTick);
    },
  };
}

export function median(values) {
  if (values.length === 0) return NaN;
  const s = [...values].sort((x, y) => x - y);
  return s[s.length >> 1];
}
