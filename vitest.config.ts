import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Tests import the built package (dist/), as users do: `npm test` builds first.
export default defineConfig({
  resolve: {
    alias: { 'wasm-ringbuf': fileURLToPath(new URL('./dist/index.js', import.meta.url)) },
  },
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    // 2 cores: files that start worker threads must not compete with each other.
    fileParallelism: false,
    testTimeout: process.env.SOAK ? 600_000 : 60_000,
    hookTimeout: 30_000,
  },
});
