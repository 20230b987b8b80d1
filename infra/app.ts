import { App, type AppProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { readConfig } from './config.ts';
import { OpenidStack } from './openid-stack.ts';

/** The stack's name in CloudFormation (and in `cdk deploy`/`cdk destroy`). */
export const STACK_NAME = 'WeappOpenid';

/**
 * Builds the CDK app from its context (`-c key=value`, see docs/operators.md). cdk-nag's
 * AwsSolutions and Serverless packs run on every synth; any finding that is not acknowledged,
 * with its reason, next to the resource fails the synth (warnings included).
 */
export function createApp(props: AppProps = {}): { app: App; stack: OpenidStack } {
  const app = new App(props);
  // Environment-agnostic on purpose: the region and partition (aws, aws-cn) come from the
  // credentials at deploy time, and synth works offline without any.
  const stack = new OpenidStack(app, STACK_NAME, {
    description: 'weapp-openid: WeChat mini program login (wx.login code -> openid)',
    config: readConfig(app.node),
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
  return { app, stack };
}

// `cdk synth` runs this file; tests import it and call createApp themselves.
if (import.meta.main) createApp();
