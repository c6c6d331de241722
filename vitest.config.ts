import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Without DATABASE_URL: one embedded Postgres for the run, a migrated template copied per file.
    globalSetup: ['server/testing/embedded-postgres-setup.ts'],
    // Vitest's default is one file at a time on a 2-core machine (cores − 1), yet a test file spends
    // most of its time waiting on Postgres, Chromium or a child process: two files at once keep both
    // cores busy (the suite's wall time on 2 cores: 646 s with one, 265 s with two).
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // expect.poll waits for what a page or a background round will do: a live count debounced 300 ms
    // then fetched took over Vitest's default 1 s on a loaded machine. Longer only delays a failure.
    expect: { poll: { timeout: 10_000 } },
  },
});
