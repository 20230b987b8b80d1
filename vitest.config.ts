import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/support/leak-guard.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
    coverage: {
      enabled: true,
      provider: 'v8',
      include: ['functions/**/*.ts'],
      // Covered in child processes (the shipped artifact, npm start), which v8 coverage of
      // this process does not see; and type-only files.
      exclude: [
        'functions/openid.ts',
        'functions/wiring.ts',
        'functions/local/server.ts',
        'functions/domain/ports.ts',
      ],
      reporter: ['text-summary'],
      thresholds: { lines: 90, branches: 85, functions: 90, statements: 90 },
    },
  },
});
