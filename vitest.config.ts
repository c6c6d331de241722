import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Without DATABASE_URL: one embedded Postgres for the run, a migrated template copied per file.
    globalSetup: ['server/testing/embedded-postgres-setup.ts'],
  },
});
