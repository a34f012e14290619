import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Compiles dist/ once: the CLI tests run the real built command.
    globalSetup: ['test/global-setup.ts'],
    // Emulator and compiler runs are real processes: give them room, but never hang CI.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
