import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { DOMAIN_CONTEXT, onlyLogicalId, resourcesOf, synth } from '../support/synth.ts';

interface Statement {
  Action: string | string[];
  Resource: unknown;
  Effect: string;
}

/** Every IAM statement granted to anything in the template, inline or in a policy resource. */
function allStatements(json: Record<string, unknown>): Statement[] {
  const policies = Object.values(resourcesOf(json, 'AWS::IAM::Policy'));
  const roles = Object.values(resourcesOf(json, 'AWS::IAM::Role'));
  const fromPolicies = policies.flatMap(
    (p) =>
      (p.Properties?.PolicyDocument as { Statement: Statement[] } | undefined)?.Statement ?? [],
  );
  const fromRoles = roles.flatMap((r) =>
    ((r.Properties?.Policies as { PolicyDocument: { Statement: Statement[] } }[]) ?? []).flatMap(
      (p) => p.PolicyDocument.Statement,
    ),
  );
  return [...fromPolicies, ...fromRoles];
}

interface Dimension {
  Name: string;
  Value: unknown;
}

/** The alarm on this metric with exactly these dimensions (in any order, as CloudWatch sees them). */
function alarmOn(
  json: Record<string, unknown>,
  namespace: string,
  metricName: string,
  dimensions: Dimension[],
): Record<string, unknown> | undefined {
  const key = (dims: Dimension[]) =>
    JSON.stringify([...dims].sort((x, y) => x.Name.localeCompare(y.Name)));
  return Object.values(resourcesOf(json, 'AWS::CloudWatch::Alarm'))
    .map((alarm) => alarm.Properties ?? {})
    .find(
      (p) =>
        p.Namespace === namespace &&
        p.MetricName === metricName &&
        key(p.Dimensions as Dimension[]) === key(dimensions),
    );
}

const actionsOf = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);

// The file's first synth bundles the function: done in a hook, whose timeout allows for a busy machine.
beforeAll(() => {
  synth();
});

describe('the login function', () => {
  it('runs Node.js 24 on arm64 with 256 MB and a 29 s timeout (the worst path of its budgets, plus headroom)', () => {
    // Prepare
    const { template } = synth();

    // Act
    const functions = template.findResources('AWS::Lambda::Function');

    // Assess
    expect(Object.keys(functions)).toHaveLength(1);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      MemorySize: 256,
      Timeout: 29,
      Handler: 'index.handler',
    });
  });

  it('gets the secret ARN and source maps in its environment, and nothing else, with sessions and users off', () => {
    // Prepare
    const { template, json } = synth({ sessions: 'false', users: 'false' });
    const secretId = onlyLogicalId(json, 'AWS::SecretsManager::Secret');

    // Act / Assess
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.exact({
          WECHAT_SECRET_ID: { Ref: secretId },
          NODE_OPTIONS: '--enable-source-maps',
        }),
      },
    });
  });

  it('passes the optional WeChat settings from context to the environment', () => {
    // Prepare
    const context = {
      wechatApiBaseUrl: 'https://wechat-proxy.example.com',
      wechatTimeoutMs: '2500',
      secretCacheTtlSeconds: '60',
    };

    // Act
    const { template } = synth(context);

    // Assess
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          WECHAT_API_BASE_URL: 'https://wechat-proxy.example.com',
          WECHAT_TIMEOUT_MS: '2500',
          SECRET_CACHE_TTL_SECONDS: '60',
        }),
      },
    });
  });

  it('logs to its own log group kept 30 days and retained when the stack is deleted', () => {
    // Prepare
    const { template, json } = synth();
    const functionLogs = Object.entries(resourcesOf(json, 'AWS::Logs::LogGroup')).find(([id]) =>
      id.startsWith('FunctionLogs'),
    );

    // Act / Assess
    expect(functionLogs).toBeDefined();
    const [logGroupId, logGroup] = functionLogs as [string, { DeletionPolicy?: string }];
    expect(logGroup.DeletionPolicy).toBe('Retain');
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    template.hasResourceProperties('AWS::Lambda::Function', {
      LoggingConfig: { LogGroup: { Ref: logGroupId } },
    });
  });

  it('deletes its log groups with the stack and honours the retention when told so', () => {
    // Prepare / Act
    const { json } = synth({ destroyLogsOnDelete: 'true', logRetentionDays: '14' });

    // Assess
    const logGroups = Object.values(resourcesOf(json, 'AWS::Logs::LogGroup'));
    expect(logGroups).toHaveLength(2);
    for (const logGroup of logGroups) {
      expect(logGroup.DeletionPolicy).toBe('Delete');
      expect(logGroup.Properties?.RetentionInDays).toBe(14);
    }
  });
});

describe('the permissions', () => {
  it('let the function read only its own secret, with GetSecretValue only', () => {
    // Prepare
    const { json } = synth();
    const secretId = onlyLogicalId(json, 'AWS::SecretsManager::Secret');

    // Act
    const secretStatements = allStatements(json).filter((s) =>
      actionsOf(s).some((a) => a.startsWith('secretsmanager:') || a === '*'),
    );

    // Assess
    expect(secretStatements).toEqual([
      { Action: 'secretsmanager:GetSecretValue', Effect: 'Allow', Resource: { Ref: secretId } },
    ]);
  });

  it('grant no wildcard action or resource and no managed policy', () => {
    // Prepare
    const { json } = synth({ alarmEmail: 'ops@example.com', ...DOMAIN_CONTEXT });

    // Act
    const statements = allStatements(json);
    const roles = Object.values(resourcesOf(json, 'AWS::IAM::Role'));

    // Assess
    for (const statement of statements) {
      expect(actionsOf(statement).every((a) => !a.includes('*'))).toBe(true);
      expect(JSON.stringify(statement.Resource)).not.toMatch(/"\*"/);
    }
    for (const role of roles) expect(role.Properties?.ManagedPolicyArns).toBeUndefined();
  });

  it('let the function write only to its own log group', () => {
    // Prepare
    const { json } = synth();
    const logGroupId = Object.keys(resourcesOf(json, 'AWS::Logs::LogGroup')).find((id) =>
      id.startsWith('FunctionLogs'),
    );

    // Act
    const logStatements = allStatements(json).filter((s) =>
      actionsOf(s).some((a) => a.startsWith('logs:')),
    );

    // Assess
    expect(logStatements).toEqual([
      {
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [logGroupId, 'Arn'] },
      },
    ]);
  });
});

describe('the secret', () => {
  it('is created with a placeholder, never a credential, and survives cdk destroy', () => {
    // Prepare
    const { template } = synth();

    // Act / Assess
    template.hasResource('AWS::SecretsManager::Secret', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
        GenerateSecretString: Match.objectLike({
          SecretStringTemplate: '{"appId":"REPLACE_WITH_YOUR_APPID"}',
          GenerateStringKey: 'appSecret',
        }),
        SecretString: Match.absent(),
      }),
    });
  });

  it('appears nowhere in the template as a value', () => {
    // Prepare
    const variants = [synth(), synth({ alarmEmail: 'ops@example.com', ...DOMAIN_CONTEXT })];

    for (const { json } of variants) {
      // Act
      const text = JSON.stringify(json);

      // Assess: no SecretString, no AppSecret-shaped value (32 hex), no credential variable.
      expect(text).not.toMatch(/"SecretString"/);
      expect(text).not.toMatch(/(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])/i);
      expect(text).not.toMatch(/appSecret"\s*:/);
      expect(text).not.toContain('WECHAT_APP_SECRET');
      expect(text).not.toContain('WECHAT_APP_ID');
    }
  });

  it('can be an existing one given by complete ARN, read with GetSecretValue on that ARN', () => {
    // Prepare
    const secretArn = 'arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:weapp/prod-AbCdEf';

    // Act
    const { template, json } = synth({ secretArn });

    // Assess
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    const secretStatements = allStatements(json).filter((s) =>
      actionsOf(s).some((a) => a.startsWith('secretsmanager:')),
    );
    expect(secretStatements).toEqual([
      { Action: 'secretsmanager:GetSecretValue', Effect: 'Allow', Resource: secretArn },
    ]);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ WECHAT_SECRET_ID: secretArn }) },
    });
    template.hasOutput('SecretArn', { Value: secretArn });
  });

  it('can be an existing one given by name, matched with the -?????? suffix wildcard', () => {
    // Prepare / Act
    const { template, json } = synth({ secretName: 'weapp/prod' });

    // Assess
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    const secretStatements = allStatements(json).filter((s) =>
      actionsOf(s).some((a) => a.startsWith('secretsmanager:')),
    );
    expect(secretStatements).toHaveLength(1);
    expect(secretStatements[0]?.Action).toBe('secretsmanager:GetSecretValue');
    expect(JSON.stringify(secretStatements[0]?.Resource)).toMatch(
      /\{"Ref":"AWS::Partition"\},":secretsmanager:".*":secret:weapp\/prod-\?\?\?\?\?\?"/,
    );
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ WECHAT_SECRET_ID: 'weapp/prod' }) },
    });
    template.hasOutput('SecretName', { Value: 'weapp/prod' });
  });
});

describe('the HTTP API', () => {
  it('routes POST /openid to the function with payload format 2.0 and no authorizer, and nothing else with sessions off', () => {
    // Prepare
    const { template, json } = synth({ sessions: 'false' });
    const functionId = onlyLogicalId(json, 'AWS::Lambda::Function');

    // Act / Assess
    template.resourceCountIs('AWS::ApiGatewayV2::Route', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: 'POST /openid',
      AuthorizationType: 'NONE',
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
      IntegrationType: 'AWS_PROXY',
      PayloadFormatVersion: '2.0',
      IntegrationUri: { 'Fn::GetAtt': [functionId, 'Arn'] },
    });
  });

  it('throttles the default stage at 50 requests/s with bursts of 100, or as configured', () => {
    // Prepare / Act
    const defaults = synth().template;
    const configured = synth({ throttleRateLimit: '10', throttleBurstLimit: '20' }).template;

    // Assess
    defaults.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
    });
    configured.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: { ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 },
    });
  });

  it('writes JSON access logs with the fields needed to trace a request to their own log group', () => {
    // Prepare
    const { json } = synth();
    const stage = Object.values(resourcesOf(json, 'AWS::ApiGatewayV2::Stage'))[0];
    const settings = stage?.Properties?.AccessLogSettings as {
      Format: string;
      DestinationArn: unknown;
    };
    const accessLogsId = Object.keys(resourcesOf(json, 'AWS::Logs::LogGroup')).find((id) =>
      id.startsWith('HttpAccessLogs'),
    );

    // Act
    const format = JSON.parse(settings.Format) as Record<string, string>;

    // Assess
    expect(format).toEqual({
      requestId: '$context.requestId',
      ip: '$context.identity.sourceIp',
      requestTime: '$context.requestTime',
      httpMethod: '$context.httpMethod',
      routeKey: '$context.routeKey',
      status: '$context.status',
      protocol: '$context.protocol',
      responseLength: '$context.responseLength',
      integrationError: '$context.integrationErrorMessage',
      integrationLatency: '$context.integrationLatency',
    });
    expect(settings.DestinationArn).toEqual({ 'Fn::GetAtt': [accessLogsId, 'Arn'] });
  });
});

describe('the outputs', () => {
  it('give the endpoint, request domain, secret ARN, function name and log group', () => {
    // Prepare
    const { template, json } = synth();
    const secretId = onlyLogicalId(json, 'AWS::SecretsManager::Secret');
    const functionId = onlyLogicalId(json, 'AWS::Lambda::Function');
    const outputs = json.Outputs as Record<string, { Value: unknown }>;

    // Act
    const endpoint = JSON.stringify(outputs.EndpointUrl?.Value);

    // Assess
    expect(endpoint).toMatch(/^\{"Fn::Join":\["",\["https:\/\/",\{"Ref":"HttpApi[0-9A-F]+"\}/);
    expect(endpoint).toContain('".execute-api."');
    expect(endpoint).toContain('{"Ref":"AWS::URLSuffix"}');
    expect(endpoint).toMatch(/"\/openid"\]\]\}$/);
    expect(JSON.stringify(outputs.RequestDomain?.Value)).toContain('".execute-api."');
    template.hasOutput('SecretArn', { Value: { Ref: secretId } });
    template.hasOutput('FunctionName', { Value: { Ref: functionId } });
    template.hasOutput('FunctionLogGroupName', {
      Value: { Ref: Match.stringLikeRegexp('^FunctionLogs') },
    });
    template.hasOutput('ApiAccessLogGroupName', {
      Value: { Ref: Match.stringLikeRegexp('^HttpAccessLogs') },
    });
  });

  it("give the API's base URL, which the client takes as baseUrl: the issuer, without /openid", () => {
    // Prepare
    const plain = synth();
    const apiId = onlyLogicalId(plain.json, 'AWS::ApiGatewayV2::Api');

    // Act
    const domain = synth(DOMAIN_CONTEXT);
    const sessionsOff = synth({ sessions: 'false' });

    // Assess: the execute-api endpoint has no trailing slash; EndpointUrl is BaseUrl + /openid.
    plain.template.hasOutput('BaseUrl', { Value: { 'Fn::GetAtt': [apiId, 'ApiEndpoint'] } });
    domain.template.hasOutput('BaseUrl', { Value: 'https://login.example.com' });
    domain.template.hasOutput('EndpointUrl', { Value: 'https://login.example.com/openid' });
    expect(Object.keys(sessionsOff.template.findOutputs('BaseUrl'))).toEqual(['BaseUrl']);
  });

  it('hard-code no partition, so the stack deploys to aws-cn as well', () => {
    // Prepare / Act
    const text = JSON.stringify(synth().json);

    // Assess: ARNs use AWS::Partition, URLs AWS::URLSuffix; only service principals name a domain.
    expect(text).not.toMatch(/arn:aws[a-z-]*:/);
    expect(new Set(text.match(/[a-z0-9.-]*amazonaws\.com[a-z.]*/g))).toEqual(
      new Set(['lambda.amazonaws.com', 'apigateway.amazonaws.com']),
    );
  });
});

describe('the custom domain', () => {
  it('maps the domain to the stage and makes it the endpoint and the request domain', () => {
    // Prepare / Act
    const { template, json } = synth(DOMAIN_CONTEXT);
    const domainId = onlyLogicalId(json, 'AWS::ApiGatewayV2::DomainName');
    const stageId = onlyLogicalId(json, 'AWS::ApiGatewayV2::Stage');
    const apiId = onlyLogicalId(json, 'AWS::ApiGatewayV2::Api');

    // Assess
    template.hasResourceProperties('AWS::ApiGatewayV2::DomainName', {
      DomainName: 'login.example.com',
      DomainNameConfigurations: [
        Match.objectLike({
          CertificateArn: DOMAIN_CONTEXT.certificateArn,
          EndpointType: 'REGIONAL',
        }),
      ],
    });
    template.hasResource('AWS::ApiGatewayV2::ApiMapping', {
      Properties: { ApiId: { Ref: apiId }, DomainName: { Ref: domainId }, Stage: '$default' },
      DependsOn: Match.arrayWith([stageId]),
    });
    template.hasOutput('EndpointUrl', { Value: 'https://login.example.com/openid' });
    template.hasOutput('RequestDomain', { Value: 'login.example.com' });
    template.hasOutput('CustomDomainTarget', {
      Value: { 'Fn::GetAtt': [domainId, 'RegionalDomainName'] },
    });
  });

  it('turns the execute-api endpoint off, so that the domain is the only way in', () => {
    // Prepare / Act
    const { template, json } = synth(DOMAIN_CONTEXT);
    const outputs = JSON.stringify(json.Outputs);

    // Assess
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { DisableExecuteApiEndpoint: true });
    expect(outputs).not.toContain('execute-api');
    expect(outputs).not.toContain('ApiEndpoint');
  });

  it('leaves the execute-api endpoint on with keepExecuteApiEndpoint=true, the domain still the endpoint and issuer', () => {
    // Prepare / Act
    const { template } = synth({ ...DOMAIN_CONTEXT, keepExecuteApiEndpoint: 'true' });

    // Assess
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { DisableExecuteApiEndpoint: false });
    template.hasOutput('EndpointUrl', { Value: 'https://login.example.com/openid' });
    template.hasOutput('Issuer', { Value: 'https://login.example.com' });
  });

  it('is absent unless configured', () => {
    // Prepare / Act
    const { template } = synth();

    // Assess
    template.resourceCountIs('AWS::ApiGatewayV2::DomainName', 0);
    template.resourceCountIs('AWS::ApiGatewayV2::ApiMapping', 0);
    expect(Object.keys(template.findOutputs('CustomDomainTarget'))).toHaveLength(0);
  });

  it('leaves the execute-api endpoint on when there is none, as the only way in', () => {
    // Prepare / Act
    const { template } = synth();

    // Assess
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      DisableExecuteApiEndpoint: Match.absent(),
    });
  });
});

describe('the alarms', () => {
  it('watch function errors and throttles, API 5xx, misconfigured, secret_unavailable, session_unavailable and the users table', () => {
    // Prepare
    const { template, json } = synth();
    const functionId = onlyLogicalId(json, 'AWS::Lambda::Function');
    const apiId = onlyLogicalId(json, 'AWS::ApiGatewayV2::Api');
    const every5Minutes = {
      Period: 300,
      Statistic: 'Sum',
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    };
    const service = { Name: 'service', Value: { Ref: functionId } };

    // Act
    const errors = alarmOn(json, 'AWS/Lambda', 'Errors', [
      { Name: 'FunctionName', Value: { Ref: functionId } },
    ]);
    const throttles = alarmOn(json, 'AWS/Lambda', 'Throttles', [
      { Name: 'FunctionName', Value: { Ref: functionId } },
    ]);
    const api5xx = alarmOn(json, 'AWS/ApiGateway', '5xx', [
      { Name: 'ApiId', Value: { Ref: apiId } },
      { Name: 'Stage', Value: '$default' },
    ]);
    const misconfigured = alarmOn(json, 'WeappOpenid', 'Logins', [
      service,
      { Name: 'outcome', Value: 'misconfigured' },
    ]);
    const secretUnavailable = alarmOn(json, 'WeappOpenid', 'Logins', [
      service,
      { Name: 'outcome', Value: 'secret_unavailable' },
    ]);
    const sessionUnavailable = alarmOn(json, 'WeappOpenid', 'Logins', [
      service,
      { Name: 'outcome', Value: 'session_unavailable' },
    ]);
    const storeFailures = alarmOn(json, 'WeappOpenid', 'UserStoreFailures', [service]);

    // Assess
    template.resourceCountIs('AWS::CloudWatch::Alarm', 7);
    expect(errors).toMatchObject({ ...every5Minutes, Threshold: 1 });
    expect(throttles).toMatchObject({ ...every5Minutes, Threshold: 1 });
    expect(api5xx).toMatchObject({ ...every5Minutes, Threshold: 5 });
    expect(misconfigured).toMatchObject({ ...every5Minutes, Threshold: 1 });
    expect(secretUnavailable).toMatchObject({ ...every5Minutes, Threshold: 1 });
    expect(sessionUnavailable).toMatchObject({ ...every5Minutes, Threshold: 1 });
    expect(storeFailures).toMatchObject({ ...every5Minutes, Threshold: 1 });
  });

  it('notify nobody by default', () => {
    // Prepare / Act
    const { template, json } = synth();

    // Assess
    template.resourceCountIs('AWS::SNS::Topic', 0);
    for (const alarm of Object.values(resourcesOf(json, 'AWS::CloudWatch::Alarm'))) {
      expect(alarm.Properties?.AlarmActions).toBeUndefined();
    }
  });

  it('notify the alarm email through an SSL-only topic when one is given', () => {
    // Prepare / Act
    const { template, json } = synth({ alarmEmail: 'ops@example.com' });
    const topicId = onlyLogicalId(json, 'AWS::SNS::Topic');

    // Assess
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: { Ref: topicId },
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 'sns:Publish',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
    const alarms = Object.values(resourcesOf(json, 'AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(7);
    for (const alarm of alarms) {
      expect(alarm.Properties?.AlarmActions).toEqual([{ Ref: topicId }]);
    }
  });
});
