import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Each file starts real servers and engine threads; on 2 cores, one file at a time.
    fileParallelism: false,
  },
});
