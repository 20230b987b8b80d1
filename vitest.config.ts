import { availableParallelism } from 'node:os';
import { configDefaults, defineConfig } from 'vitest/config';
import type { InlineConfig } from 'vitest/node';

/**
 * The slow tests: each starts a process (npm start, the doctor, the bundled artifact, tsc,
 * cdk, esbuild), talks to moto_server, or synthesizes the CDK app. Everything else is the
 * `unit` project, which `npm run test:unit` runs alone in well under a minute. `npm test`
 * runs both, and measures coverage over the whole run.
 */
const SLOW = [
  'test/artifact/**/*.test.ts',
  'test/client/**/*.test.ts',
  'test/docs/readme-quick-start.test.ts',
  'test/faults/**/*.test.ts',
  'test/functions/http.test.ts',
  'test/functions/local-server.test.ts',
  'test/functions/secret-store.test.ts',
  'test/infra/cfn-lint.test.ts',
  'test/infra/nag.test.ts',
  'test/infra/openid-stack.test.ts',
  'test/infra/session-authorizer.test.ts',
  'test/infra/sessions-stack.test.ts',
  'test/infra/users-stack.test.ts',
  'test/load/**/*.test.ts',
  'test/scripts/doctor.test.ts',
  'test/scripts/doctor-function.test.ts',
  'test/scripts/doctor-sessions.test.ts',
  'test/scripts/supply-chain.test.ts',
  'test/sessions/kms-sessions.test.ts',
  'test/sessions/signing-key.test.ts',
  'test/users/**/*.test.ts',
];

/** What both projects, and any config built on this one, run with. */
const shared = {
  setupFiles: ['test/support/leak-guard.ts'],
  testTimeout: 20_000,
  hookTimeout: 60_000,
  pool: 'forks',
} satisfies InlineConfig;

export default defineConfig({
  test: {
    ...shared,
    // Vitest's default is one file fewer than there are cores: one at a time on 2 cores. Most
    // slow files spend their time waiting (on the timeouts they test, on child processes),
    // so at least three files at once keep 2 cores busy. Set here only, not in the projects,
    // so that --maxWorkers on the command line still applies.
    maxWorkers: Math.max(3, availableParallelism()),
    reporters: ['default'],
    projects: [
      {
        test: {
          ...shared,
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...SLOW],
        },
      },
      {
        test: {
          ...shared,
          name: 'slow',
          include: SLOW,
          // One moto_server, one artifact build and one synth per variant for the whole run.
          globalSetup: ['test/support/global-setup.ts'],
        },
      },
    ],
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
