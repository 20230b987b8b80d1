import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { servedRoutes } from '../../functions/routes/index.ts';
import { type Feature, routeKey } from '../../functions/routes/route.ts';
import { createApp } from '../../infra/app.ts';
import { ConfigError } from '../../infra/config.ts';
import {
  APP_IDS_CONTEXT,
  allows,
  isAccountRoot,
  keyPolicyOf,
  onlyLogicalId,
  resourcesOf,
  scratchDir,
  synth,
} from '../support/synth.ts';

type Json = Record<string, unknown>;

interface Statement {
  Action: string | string[];
  Resource: unknown;
}

const OPEN_DATA = { openData: 'true' };
/** CloudWatch's dynamic label: a SEARCH's lines are named by their outcome. */
const OUTCOME_LABEL = `\${PROP('Dim.outcome')}`;
const USERS_OFF = { users: 'false' };

/** The login function's environment variables. */
function environment(json: Json): Record<string, unknown> {
  const fn = Object.values(resourcesOf(json, 'AWS::Lambda::Function'))[0];
  const env = fn?.Properties?.Environment as { Variables: Record<string, unknown> } | undefined;
  return env?.Variables ?? {};
}

/** Every IAM statement, in policy resources, that mentions an action of this service. */
function iamStatements(json: Json, service: string): Statement[] {
  return Object.values(resourcesOf(json, 'AWS::IAM::Policy'))
    .flatMap(
      (p) =>
        (p.Properties?.PolicyDocument as { Statement: Statement[] } | undefined)?.Statement ?? [],
    )
    .filter((s) => [s.Action].flat().some((a) => a.startsWith(`${service}:`)));
}

/** The logical id of the KMS key behind this alias. */
function keyIdOf(json: Json, aliasName: string): string | undefined {
  const alias = Object.values(resourcesOf(json, 'AWS::KMS::Alias')).find(
    (a) => a.Properties?.AliasName === aliasName,
  );
  const target = alias?.Properties?.TargetKeyId as { 'Fn::GetAtt': [string, string] } | undefined;
  return target?.['Fn::GetAtt'][0];
}

/** The role of the login function, as a key policy names it. */
const functionRole = (json: Json) => ({
  AWS: { 'Fn::GetAtt': [onlyLogicalId(json, 'AWS::IAM::Role'), 'Arn'] },
});

interface Widget {
  properties: { title: string; metrics: unknown[][] };
}

/**
 * The dashboard's widgets, its body parsed with every reference written `<LogicalId>` (the
 * body is a JSON string joined with CloudFormation references).
 */
function dashboardWidgets(json: Json): Widget[] {
  const dashboard = Object.values(resourcesOf(json, 'AWS::CloudWatch::Dashboard'))[0];
  const joined = dashboard?.Properties?.DashboardBody as { 'Fn::Join': [string, unknown[]] };
  const parts = joined['Fn::Join'][1];
  const body = parts
    .map((part) => (typeof part === 'string' ? part : `<${(part as { Ref: string }).Ref}>`))
    .join('');
  return (JSON.parse(body) as { widgets: Widget[] }).widgets;
}

const titled = (widgets: Widget[], title: string) =>
  widgets.find((w) => w.properties.title === title)?.properties.metrics;

// The file's first synth bundles the function: done in a hook, whose timeout allows for a busy machine.
beforeAll(() => {
  synth();
});

describe('the users table', () => {
  it('is one DynamoDB table keyed by the string id {AppID}#{openid} alone, billed on demand', () => {
    // Prepare
    const { template } = synth();

    // Act / Assess
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
      GlobalSecondaryIndexes: Match.absent(),
      ProvisionedThroughput: Match.absent(),
    });
  });

  it('survives cdk destroy and a replacement, refuses deletion, and can be restored to any second of the last 35 days', () => {
    // Prepare
    const { template } = synth();

    // Act / Assess
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
        DeletionProtectionEnabled: true,
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      }),
    });
  });

  it('is encrypted at rest with the AWS owned key: no KMS key, no KMS request, no charge', () => {
    // Prepare
    const { template } = synth();

    // Act / Assess: SSEEnabled false is CloudFormation's way of saying "the AWS owned key".
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      SSESpecification: { SSEEnabled: false },
    });
    template.resourceCountIs('AWS::KMS::Key', 1); // the session signing key only
  });

  it('is named to the function in USERS_TABLE', () => {
    // Prepare
    const { json } = synth();

    // Act
    const variables = environment(json);

    // Assess
    expect(variables.USERS_TABLE).toEqual({ Ref: onlyLogicalId(json, 'AWS::DynamoDB::Table') });
  });

  it('may only be read, written and deleted item by item by the function, on its own ARN', () => {
    // Prepare
    const { json } = synth();

    // Act
    const statements = iamStatements(json, 'dynamodb').map((s) => ({
      ...s,
      Action: [s.Action].flat().sort(),
    }));

    // Assess
    expect(statements).toEqual([
      {
        Action: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem'],
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [onlyLogicalId(json, 'AWS::DynamoDB::Table'), 'Arn'] },
      },
    ]);
  });

  it('has an alarm at one failure in 5 minutes, by service only, notifying the alarm topic', () => {
    // Prepare
    const { json } = synth({ alarmEmail: 'ops@example.com' });
    const functionId = onlyLogicalId(json, 'AWS::Lambda::Function');

    // Act
    const alarm = Object.values(resourcesOf(json, 'AWS::CloudWatch::Alarm')).find(
      (a) => a.Properties?.MetricName === 'UserStoreFailures',
    );

    // Assess
    expect(alarm?.Properties).toMatchObject({
      Namespace: 'WeappOpenid',
      Dimensions: [{ Name: 'service', Value: { Ref: functionId } }],
      Statistic: 'Sum',
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: onlyLogicalId(json, 'AWS::SNS::Topic') }],
    });
  });
});

describe('users=false', () => {
  it('leaves no table, no variable, no grant, no alarm and no dashboard graph for it', () => {
    // Prepare
    const { template, json } = synth(USERS_OFF);

    // Act
    const variables = Object.keys(environment(json));
    const alarms = Object.values(resourcesOf(json, 'AWS::CloudWatch::Alarm')).map(
      (a) => a.Properties?.MetricName,
    );

    // Assess
    template.resourceCountIs('AWS::DynamoDB::Table', 0);
    expect(variables).not.toContain('USERS_TABLE');
    expect(iamStatements(json, 'dynamodb')).toEqual([]);
    expect(alarms).not.toContain('UserStoreFailures');
    expect(titled(dashboardWidgets(json), 'Users table failures')).toBeUndefined();
  });
});

describe('the features the stack serves', () => {
  it.each([
    ['by default', {}, ['tokens', 'users']],
    ['with users off', USERS_OFF, ['tokens']],
    ['with sessions off', { sessions: 'false' }, ['users']],
    ['with open data on', OPEN_DATA, ['tokens', 'users', 'openData']],
  ])('are %s %j', (_name, context, features) => {
    // Prepare / Act
    const { stack } = createApp({ context, outdir: scratchDir() });

    // Assess
    expect([...stack.features].sort()).toEqual([...features].sort());
  });

  it.each([
    ['by default', APP_IDS_CONTEXT, ['tokens', 'users']],
    ['with users off', { ...APP_IDS_CONTEXT, ...USERS_OFF }, ['tokens']],
    ['with open data on', { ...APP_IDS_CONTEXT, ...OPEN_DATA }, ['tokens', 'users', 'openData']],
  ] as const)('route exactly the routes those features serve, %s', (_name, context, features) => {
    // Prepare
    const { json } = synth(context);
    const expected = servedRoutes(new Set<Feature>(features)).map(routeKey);

    // Act
    const routed = Object.values(resourcesOf(json, 'AWS::ApiGatewayV2::Route')).map(
      (r) => r.Properties?.RouteKey,
    );

    // Assess
    expect(routed.sort()).toEqual(expected.sort());
  });
});

describe('the open data key', () => {
  it('does not exist, and neither does its variable, unless openData=true', () => {
    // Prepare
    const { json } = synth();

    // Act
    const key = keyIdOf(json, 'alias/WeappOpenid/open-data');

    // Assess
    expect(key).toBeUndefined();
    expect(environment(json).OPEN_DATA_KEY_ID).toBeUndefined();
  });

  it('is a symmetric encrypt-decrypt key, rotated yearly, kept on cdk destroy, with an alias under the stack name', () => {
    // Prepare
    const { json } = synth(OPEN_DATA);

    // Act
    const key = resourcesOf(json, 'AWS::KMS::Key')[
      keyIdOf(json, 'alias/WeappOpenid/open-data') ?? ''
    ];

    // Assess
    expect(key).toMatchObject({
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        KeySpec: 'SYMMETRIC_DEFAULT',
        KeyUsage: 'ENCRYPT_DECRYPT',
        EnableKeyRotation: true,
      },
    });
  });

  it('is named to the function in OPEN_DATA_KEY_ID by its ARN, beside USERS_TABLE', () => {
    // Prepare
    const { json } = synth(OPEN_DATA);
    const keyId = keyIdOf(json, 'alias/WeappOpenid/open-data');

    // Act
    const variables = environment(json);

    // Assess
    expect(variables.OPEN_DATA_KEY_ID).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
    expect(variables.USERS_TABLE).toBeDefined();
  });

  it("lets only the function's role generate data keys and decrypt, and the account administer it", () => {
    // Prepare
    const { json } = synth(OPEN_DATA);

    // Act
    const policy = keyPolicyOf(json, keyIdOf(json, 'alias/WeappOpenid/open-data'));
    const [admin, use] = policy.map((s) => ({ ...s, Action: [s.Action].flat().sort() }));

    // Assess
    expect(policy).toHaveLength(2);
    expect(admin && isAccountRoot(admin)).toBe(true);
    expect(use).toEqual({
      Sid: 'UseByTheLoginFunction',
      Effect: 'Allow',
      Principal: functionRole(json),
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Resource: '*',
    });
    expect(iamStatements(json, 'kms')).toEqual([]);
  });

  it('gives the account root no way to decrypt: no kms:Decrypt, no kms:*, no grant to create', () => {
    // Prepare
    const { json } = synth(OPEN_DATA);

    // Act
    const rootActions = keyPolicyOf(json, keyIdOf(json, 'alias/WeappOpenid/open-data'))
      .filter(isAccountRoot)
      .flatMap((s) => [s.Action].flat());

    // Assess
    expect(rootActions).not.toHaveLength(0);
    for (const action of [
      'kms:Decrypt',
      'kms:GenerateDataKey',
      'kms:CreateGrant',
      'kms:ReEncryptFrom',
    ]) {
      expect(allows(rootActions, action), action).toBe(false);
    }
    for (const action of ['kms:PutKeyPolicy', 'kms:ScheduleKeyDeletion', 'kms:DescribeKey']) {
      expect(allows(rootActions, action), action).toBe(true);
    }
  });

  it.each([
    [
      'users=false',
      { ...OPEN_DATA, users: 'false' },
      /needs users and sessions, which users=false turns off/,
    ],
    [
      'sessions=false',
      { ...OPEN_DATA, sessions: 'false' },
      /needs users and sessions, which sessions=false turns off/,
    ],
  ])('fails the synth with %s, naming both', (_name, context, message) => {
    // Prepare / Act
    const create = () => createApp({ context, outdir: scratchDir() });

    // Assess
    expect(create).toThrow(ConfigError);
    expect(create).toThrow(message);
  });
});

describe('the dashboard', () => {
  it('graphs logins and phone binds by outcome, found with SEARCH for the function', () => {
    // Prepare
    const { json } = synth();
    const service = `<${onlyLogicalId(json, 'AWS::Lambda::Function')}>`;

    // Act
    const widgets = dashboardWidgets(json);

    // Assess
    expect(titled(widgets, 'Logins by outcome')).toEqual([
      [
        {
          expression: `SEARCH('{WeappOpenid,outcome,service} MetricName="Logins" service="${service}"', 'Sum', 300)`,
          label: OUTCOME_LABEL,
        },
      ],
    ]);
    expect(titled(widgets, 'Phone binds by outcome')).toEqual([
      [
        {
          expression: `SEARCH('{WeappOpenid,outcome,service} MetricName="PhoneBinds" service="${service}"', 'Sum', 300)`,
          label: OUTCOME_LABEL,
        },
      ],
    ]);
  });

  it("graphs WeChat's latency at p50 and p99", () => {
    // Prepare
    const { json } = synth();

    // Act
    const latency = titled(dashboardWidgets(json), 'WeChat latency (ms), by outcome') ?? [];

    // Assess
    expect(latency.map(([line]) => (line as { expression: string }).expression)).toEqual([
      expect.stringMatching(/MetricName="WechatLatency".*'p50', 300\)$/),
      expect.stringMatching(/MetricName="WechatLatency".*'p99', 300\)$/),
    ]);
  });

  it('graphs the users table failures, the KMS failures of logins, and the function errors and throttles', () => {
    // Prepare
    const { json } = synth();
    const service = `<${onlyLogicalId(json, 'AWS::Lambda::Function')}>`;

    // Act
    const widgets = dashboardWidgets(json);
    const metricOf = (line: unknown[]) => line.filter((part) => typeof part === 'string');

    // Assess
    expect(titled(widgets, 'Users table failures')?.map(metricOf)).toEqual([
      ['WeappOpenid', 'UserStoreFailures', 'service', service],
    ]);
    expect(titled(widgets, 'KMS and configuration failures (logins)')?.map(metricOf)).toEqual([
      ['WeappOpenid', 'Logins', 'outcome', 'session_unavailable', 'service', service],
      ['WeappOpenid', 'Logins', 'outcome', 'misconfigured', 'service', service],
    ]);
    expect(titled(widgets, 'Function errors and throttles')?.map(metricOf)).toEqual([
      ['AWS/Lambda', 'Errors', 'FunctionName', service],
      ['AWS/Lambda', 'Throttles', 'FunctionName', service],
    ]);
  });

  it('leaves phone binds out with sessions off, when POST /phone cannot exist', () => {
    // Prepare
    const { json } = synth({ sessions: 'false' });

    // Act
    const widgets = dashboardWidgets(json);

    // Assess
    expect(titled(widgets, 'Phone binds by outcome')).toBeUndefined();
    expect(titled(widgets, 'Logins by outcome')).toBeDefined();
  });

  it('is named after the stack and the region, and given in the DashboardName output', () => {
    // Prepare
    const { template, json } = synth();
    const dashboardId = onlyLogicalId(json, 'AWS::CloudWatch::Dashboard');

    // Act / Assess
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', {
      DashboardName: { 'Fn::Join': ['', ['WeappOpenid-', { Ref: 'AWS::Region' }]] },
    });
    template.hasOutput('DashboardName', { Value: { Ref: dashboardId } });
  });
});
