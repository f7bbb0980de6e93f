import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Native inference is already multi-threaded; parallel test files only fight over 2 cores.
    fileParallelism: false,
  },
});
