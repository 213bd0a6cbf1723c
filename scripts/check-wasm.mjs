// Build check: the shared module must carry no static data and no allocator.
// Active data segments are re-applied every time a thread instantiates the
// module, so any data segment would be rewritten under running producers.
import { readFileSync } from 'node:fs';

const wat = readFileSync(new URL('../build/ringbuf.wat', import.meta.url), 'utf8');
const problems = [];
if (/\(data\b/.test(wat)) problems.push('a data segment (static data: strings, asserts, memory.data)');
if (/__new|__alloc|__collect/.test(wat)) problems.push('runtime allocation (new, strings or arrays)');
const imports = [...wat.matchAll(/\(import "([^"]+)" "([^"]+)"/g)].map((m) => `${m[1]}.${m[2]}`);
if (imports.join() !== 'env.memory') problems.push(`imports other than env.memory: ${imports.join(', ')}`);
if (!/\(memory \$0 \d+ \d+ shared\)/.test(wat)) problems.push('the memory is not an imported shared memory');
if (problems.length) {
  console.error(`build/ringbuf.wasm must stay free of static data and allocation; found:\n- ${problems.join('\n- ')}`);
  process.exit(1);
}
console.log('build/ringbuf.wasm: no data segment, no allocator, imports env.memory (shared) only');
