import { defineConfig } from 'vitest/config';

// Training tests share 2 cores with whatever else runs: generous timeouts, files one at a time.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    fileParallelism: false,
    pool: 'forks',
  },
});
