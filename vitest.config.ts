import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Files that start private servers share the 2 cores; keep parallelism modest.
    maxWorkers: 2,
    pool: 'forks',
  },
});
