import { Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Topic } from 'aws-cdk-lib/aws-sns';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../infra/app.ts';
import {
  APP_IDS_CONTEXT,
  DOMAIN_CONTEXT,
  ROTATION_STEPS,
  scratchDir,
  synth,
} from '../support/synth.ts';

const outdir = () => scratchDir('weapp-openid-nag-');

describe('cdk-nag on synth', () => {
  it.each([
    ['the default stack', {}],
    ['a secret imported by name', { secretName: 'weapp/prod' }],
    [
      'a secret imported by ARN',
      { secretArn: 'arn:aws:secretsmanager:ap-east-1:123456789012:secret:weapp-AbCdEf' },
    ],
    [
      'a custom domain and an alarm email',
      {
        alarmEmail: 'ops@example.com',
        domainName: 'login.example.com',
        certificateArn: 'arn:aws:acm:ap-east-1:123456789012:certificate/abc',
      },
    ],
    ['GET /me behind the JWT authorizer', APP_IDS_CONTEXT],
    ['GET /me on a custom domain', { ...DOMAIN_CONTEXT, ...APP_IDS_CONTEXT }],
    ['sessions off', { sessions: 'false' }],
    ['users off', { users: 'false' }],
    ['open data on, behind the JWT authorizer', { openData: 'true', ...APP_IDS_CONTEXT }],
    ['a rotation publishing a second key', ROTATION_STEPS.publish],
  ])('passes the AwsSolutions and Serverless packs with %s', (_name, context) => {
    // Prepare / Act: the run's synth of this variant runs the packs (synth.ts); a finding
    // makes it throw, so a variant with one is never kept and throws here again.
    const synthesize = () => synth(context);

    // Assess
    expect(synthesize).not.toThrow();
  });

  it('fails the synth on a finding nobody acknowledged', () => {
    // Prepare
    const { stack } = createApp({ outdir: outdir() });
    new Topic(stack, 'UncheckedTopic');

    // Act
    const synthesize = () => Template.fromStack(stack);

    // Assess
    expect(synthesize).toThrow(/AwsSolutions-SNS3/);
  });

  it('acknowledges findings on the resources themselves, never stack-wide', () => {
    // Prepare
    const { app, stack } = createApp({ outdir: outdir() });
    const acknowledgedOn = (scope: IConstruct) =>
      scope.node.metadata.some((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY);

    // Act
    const scopes = stack.node.findAll().filter(acknowledgedOn);

    // Assess
    expect(acknowledgedOn(app)).toBe(false);
    expect(acknowledgedOn(stack)).toBe(false);
    expect(scopes.map((s) => s.node.path).sort()).toEqual([
      'WeappOpenid/Http/Api/GET--.well-known--jwks.json',
      'WeappOpenid/Http/Api/GET--.well-known--openid-configuration',
      'WeappOpenid/Http/Api/POST--openid',
      'WeappOpenid/Http/DefaultStage',
      'WeappOpenid/LoginFunction',
      'WeappOpenid/Secret',
    ]);
  });
});
