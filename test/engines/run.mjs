// Runs the engine suite in Node, Deno or Bun (`node run.mjs`, `deno run -A run.mjs`,
// `bun run.mjs`): each outcome on stderr as it comes, then the whole result as
// one JSON line on stdout, after the marker the Vitest file looks for.
import process from 'node:process';
import { runSuite } from './suite.mjs';

const result = await runSuite({ log: (line) => process.stderr.write(`${line}\n`) });
process.stdout.write(`ENGINE-RESULT ${JSON.stringify(result)}\n`);
process.exit(result.results.every((r) => r.ok) ? 0 : 1);
