import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

/**
 * The tests Stryker runs against each mutant: the in-process ones that exercise the handler,
 * the domain and the WeChat client. The child-process, moto and CDK tests cover other code
 * and would only make every mutant slower. (Not mergeConfig: it would append to `include`.)
 */
export default defineConfig({
  test: {
    ...base.test,
    include: [
      'test/functions/handler.test.ts',
      'test/functions/wechat-client.test.ts',
      'test/properties/**/*.test.ts',
    ],
    // The CI seed, so that a score can be compared with the last one; a fifth of the property
    // runs, which still reach every outcome the properties require (checked in each run).
    env: { FC_SEED: '20260401', FC_SCALE: '0.2' },
    coverage: { enabled: false },
  },
});
