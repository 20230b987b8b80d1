import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

/**
 * The tests Stryker runs against each mutant: the example-based tests of the handler and the
 * WeChat client, and the pinned property findings. The generated properties are left out:
 * thousands of cases per run, once per mutant, would take hours on 2 cores. The child-process,
 * moto and CDK tests cover other code. (Not mergeConfig: it would append to `include`.)
 */
export default defineConfig({
  test: {
    ...base.test,
    include: [
      'test/functions/handler.test.ts',
      'test/functions/wechat-client.test.ts',
      'test/properties/found.test.ts',
    ],
    coverage: { enabled: false },
  },
});
