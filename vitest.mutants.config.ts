import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

/**
 * The tests Stryker runs against each mutant: the example-based tests of the handler (with and
 * without sessions), the WeChat client, open data's decryption, the sandbox's users and open
 * data and the local refusals (in this process, with memory stores), and the pinned property
 * findings. The phone use case is left out of the mutated files: its tests need moto. The
 * generated properties are left out: thousands of cases per run, once per mutant, would take
 * hours on 2 cores. The child-process, moto and CDK tests cover other code. (Not mergeConfig:
 * it would append to `include`.) The base's projects are left out, since with them this
 * `include` would not apply, and so is its worker count: Stryker runs its own processes side
 * by side.
 */
const { projects: _projects, maxWorkers: _maxWorkers, ...shared } = base.test ?? {};

export default defineConfig({
  test: {
    ...shared,
    include: [
      'test/functions/handler.test.ts',
      'test/functions/wechat-client.test.ts',
      'test/functions/open-data.test.ts',
      'test/functions/sandbox-users.test.ts',
      'test/functions/sandbox-open-data.test.ts',
      'test/functions/local-refusals.test.ts',
      'test/sessions/handler-sessions.test.ts',
      'test/properties/found.test.ts',
    ],
    coverage: { enabled: false },
  },
});
