import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The built-in engine synthesizes real speech in worker threads: a few hundred ms per
    // job, and a slow CI machine may need much more. Tests assert no timings except the
    // cancel latency the engine contract requires.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
