import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  APP_IDS_CONTEXT,
  DOMAIN_CONTEXT,
  ROTATION_STEPS,
  scratchDir,
  synth,
} from '../support/synth.ts';

const installed = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' }).status === 0;
if (!installed && process.env.CI) {
  throw new Error('cfn-lint is required in CI: pip install cfn-lint');
}
if (!installed) {
  console.warn(
    'cfn-lint not found: skipping the template lint (install it with `pip install cfn-lint`).',
  );
}

/**
 * W3005 ("dependency already enforced by GetAtt") is ignored: CDK always adds an explicit
 * DependsOn from a Lambda function to its role, which is redundant but harmless.
 */
const IGNORED = ['W3005'];

const VARIANTS: Record<string, Record<string, string>> = {
  default: {},
  'custom-domain-and-alarm-email': { ...DOMAIN_CONTEXT, alarmEmail: 'ops@example.com' },
  'imported-secret': { secretName: 'weapp/prod' },
  'sessions-with-app-ids': APP_IDS_CONTEXT,
  'sessions-with-custom-domain-and-app-ids': { ...DOMAIN_CONTEXT, ...APP_IDS_CONTEXT },
  'sessions-off': { sessions: 'false' },
  'users-off': { users: 'false' },
  'open-data-with-app-ids': { openData: 'true', ...APP_IDS_CONTEXT },
  'rotation-publishing-the-next-key': ROTATION_STEPS.publish,
};

/** Each variant is one synth (bundling included), on a shared machine: well over the default. */
const LINT_TIMEOUT_MS = 180_000;

describe.skipIf(!installed)('cfn-lint', () => {
  it(
    'finds nothing wrong with any variant of the template',
    () => {
      // Prepare: one file per variant, linted in one run (cfn-lint's start-up is the slow part).
      const dir = scratchDir('weapp-openid-lint-');
      const files = Object.entries(VARIANTS).map(([name, context]) => {
        const file = join(dir, `${name}.template.json`);
        writeFileSync(file, JSON.stringify(synth(context).json, null, 2));
        return file;
      });

      // Act
      const lint = spawnSync('cfn-lint', ['--ignore-checks', ...IGNORED, '--', ...files], {
        encoding: 'utf8',
      });

      // Assess: exit 0 means no error, no warning and no informational finding.
      expect(lint.stdout + lint.stderr).toBe('');
      expect(lint.status).toBe(0);
    },
    LINT_TIMEOUT_MS,
  );
});
