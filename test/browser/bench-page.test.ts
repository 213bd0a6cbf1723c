// A smoke test of the browser benchmark's page (bench/browser/): one short
// round of each pair in Chromium. It checks that the page ran every side,
// checked every record it was sent, and gave a finite ratio; never a timing.
import { expect, it } from 'vitest';
import { startBenchServer } from '../../bench/browser/server.mjs';
import { openPage, useChromium } from './browser.js';

const browser = useChromium();

interface Run {
  records: number;
  rate: number;
}
interface PairResult {
  name: string;
  error: string | null;
  ratio: { median: number } | null;
  a: { runs: Run[] };
  b: { runs: Run[] };
}

it('the bench page runs each pair once, every record checked, a finite ratio each', async () => {
  const server = await startBenchServer();
  try {
    const { page, errors } = await openPage(browser.get(), server.pageUrl({ rounds: 1, ms: 40, warmup: 0 }));
    const result = (await server.result) as { fatal?: string; errors: string[]; pairs: PairResult[] };
    await page.close();
    expect(result.fatal, server.log.join('\n')).toBeUndefined();
    expect([...result.errors, ...errors]).toEqual([]);
    expect(result.pairs.length).toBeGreaterThan(0);
    for (const pair of result.pairs) {
      expect(pair.error, pair.name).toBeNull();
      expect(Number.isFinite(pair.ratio?.median), pair.name).toBe(true);
      // the page throws unless the consumer checked, in order, every record the producer wrote
      for (const run of [...pair.a.runs, ...pair.b.runs]) expect(run.records, pair.name).toBeGreaterThan(0);
    }
  } finally {
    await server.close();
  }
});
