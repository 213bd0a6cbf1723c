// Entry of the child process that measures allocation (alloc.ts): started by
// runAllocation() with --expose-gc and a 64 MiB semi-space; sends its rows
// back over IPC.

import { allocChild } from './alloc.js';

const send = (m: unknown): void => {
  process.send?.(m);
};
try {
  send({ rows: await allocChild(JSON.parse(process.argv[2] ?? '{}')) });
  process.exitCode = 0;
} catch (error) {
  send({ error: error instanceof Error ? error.stack ?? error.message : String(error) });
  process.exitCode = 1;
}
process.disconnect?.();
