import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../infra/app.ts';
import {
  APP_IDS_CONTEXT,
  allows,
  type CfnResource,
  DOMAIN_CONTEXT,
  isAccountRoot,
  keyPolicyOf,
  onlyLogicalId,
  ROTATION_STEPS,
  resourcesOf,
  scratchDir,
  synth,
} from '../support/synth.ts';

type Json = Record<string, unknown>;

interface Statement {
  Action: string | string[];
  Resource: unknown;
}

const SESSION_VARIABLES = [
  'SESSION_KEY_ID',
  'SESSION_PUBLISHED_KEY_IDS',
  'SESSION_ISSUER',
  'SESSION_TTL_SECONDS',
];

/** The logical id of the session key with this name, found through its alias. */
function keyId(json: Json, name: string): string | undefined {
  const alias = Object.values(resourcesOf(json, 'AWS::KMS::Alias')).find(
    (a) => a.Properties?.AliasName === `alias/WeappOpenid/session-${name}`,
  );
  const target = alias?.Properties?.TargetKeyId as { 'Fn::GetAtt': [string, string] } | undefined;
  return target?.['Fn::GetAtt'][0];
}

const arnOf = (logicalId: string | undefined) => ({ 'Fn::GetAtt': [logicalId, 'Arn'] });

/** The login function's environment variables. */
function environment(json: Json): Record<string, unknown> {
  const fn = Object.values(resourcesOf(json, 'AWS::Lambda::Function'))[0];
  const env = fn?.Properties?.Environment as { Variables: Record<string, unknown> } | undefined;
  return env?.Variables ?? {};
}

/** Every IAM statement that mentions a KMS action. */
function kmsStatements(json: Json): Statement[] {
  return Object.values(resourcesOf(json, 'AWS::IAM::Policy'))
    .flatMap(
      (p) =>
        (p.Properties?.PolicyDocument as { Statement: Statement[] } | undefined)?.Statement ?? [],
    )
    .filter((s) => [s.Action].flat().some((a) => a.startsWith('kms:')));
}

/** What the login function's role may do with the key of this name, by the key's policy. */
function useOf(json: Json, name: string): unknown {
  const role = { AWS: { 'Fn::GetAtt': [onlyLogicalId(json, 'AWS::IAM::Role'), 'Arn'] } };
  const statements = keyPolicyOf(json, keyId(json, name)).filter(
    (s) => JSON.stringify(s.Principal) === JSON.stringify(role),
  );
  return statements.map((s) => (Array.isArray(s.Action) ? [...s.Action].sort() : s.Action));
}

/** The route with this route key, as [logical id, resource]. */
function route(json: Json, routeKey: string): [string, CfnResource] {
  const found = Object.entries(resourcesOf(json, 'AWS::ApiGatewayV2::Route')).find(
    ([, r]) => r.Properties?.RouteKey === routeKey,
  );
  if (!found) throw new Error(`no route ${routeKey}`);
  return found;
}

/** The Lambda permission that lets API Gateway invoke the function for this path. */
function permissionFor(json: Json, path: string): string | undefined {
  return Object.entries(resourcesOf(json, 'AWS::Lambda::Permission')).find(([, p]) =>
    JSON.stringify(p.Properties?.SourceArn).endsWith(`"/*/*${path}"]]}`),
  )?.[0];
}

const dependsOn = (json: Json, logicalId: string): string[] =>
  (
    (json.Resources as Record<string, { DependsOn?: string[] }>)[logicalId]?.DependsOn ?? []
  ).slice();

// The file's first synth bundles the function: done in a hook, whose timeout allows for a busy machine.
beforeAll(() => {
  synth();
});

describe('the session signing key', () => {
  it('is one RSA 2048 sign-and-verify KMS key with an alias, by default', () => {
    // Prepare
    const { template, json } = synth();

    // Act
    const id = keyId(json, 'default');

    // Assess
    template.resourceCountIs('AWS::KMS::Key', 1);
    expect(id).toBe(onlyLogicalId(json, 'AWS::KMS::Key'));
    template.hasResourceProperties('AWS::KMS::Key', {
      KeySpec: 'RSA_2048',
      KeyUsage: 'SIGN_VERIFY',
      EnableKeyRotation: Match.absent(),
    });
  });

  it('is deleted with the stack after the longest waiting period KMS allows', () => {
    // Prepare
    const { template } = synth();

    // Act / Assess
    template.hasResource('AWS::KMS::Key', {
      DeletionPolicy: 'Delete',
      UpdateReplacePolicy: 'Delete',
      Properties: Match.objectLike({ PendingWindowInDays: 30 }),
    });
  });

  it('does not exist with sessions off, and neither do the session routes and variables', () => {
    // Prepare
    const { template, json } = synth({ sessions: 'false' });

    // Act
    const variables = Object.keys(environment(json));

    // Assess
    template.resourceCountIs('AWS::KMS::Key', 0);
    template.resourceCountIs('AWS::KMS::Alias', 0);
    template.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 0);
    template.resourceCountIs('AWS::ApiGatewayV2::Route', 1);
    expect(kmsStatements(json)).toEqual([]);
    expect(variables.filter((v) => SESSION_VARIABLES.includes(v))).toEqual([]);
    expect(Object.keys(template.findOutputs('*'))).not.toContain('Issuer');
    expect(Object.keys(template.findOutputs('*'))).not.toContain('JwksUrl');
  });
});

describe("the function's session settings", () => {
  it("sign with the key's ARN and name the API's own base URL as issuer", () => {
    // Prepare
    const { json } = synth();

    // Act
    const variables = environment(json);

    // Assess: apiEndpoint has no trailing slash, unlike the stage's url.
    expect(variables.SESSION_KEY_ID).toEqual(arnOf(keyId(json, 'default')));
    expect(variables.SESSION_ISSUER).toEqual({
      'Fn::GetAtt': [onlyLogicalId(json, 'AWS::ApiGatewayV2::Api'), 'ApiEndpoint'],
    });
    expect(variables.SESSION_PUBLISHED_KEY_IDS).toBeUndefined();
    expect(variables.SESSION_TTL_SECONDS).toBeUndefined();
  });

  it('name the custom domain as issuer when there is one', () => {
    // Prepare / Act
    const { json } = synth(DOMAIN_CONTEXT);

    // Assess
    expect(environment(json).SESSION_ISSUER).toBe('https://login.example.com');
  });

  it('pass sessionTtlSeconds on as SESSION_TTL_SECONDS', () => {
    // Prepare / Act
    const { json } = synth(APP_IDS_CONTEXT);

    // Assess
    expect(environment(json).SESSION_TTL_SECONDS).toBe('86400');
  });
});

describe("the signing key's policy", () => {
  it("lets the function's role sign and read the public key, in the key policy itself and in no IAM policy", () => {
    // Prepare
    const { json } = synth();

    // Act
    const policy = keyPolicyOf(json, keyId(json, 'default'));

    // Assess: without the account's kms:*, an IAM policy could not grant the key's use anyway.
    expect(policy).toHaveLength(2);
    expect(useOf(json, 'default')).toEqual([['kms:GetPublicKey', 'kms:Sign']]);
    expect(kmsStatements(json)).toEqual([]);
  });

  it('leaves the account root its administration but neither kms:Sign, nor kms:*, nor a grant to create', () => {
    // Prepare
    const { json } = synth();

    // Act
    const rootStatements = keyPolicyOf(json, keyId(json, 'default')).filter(isAccountRoot);
    const rootActions = rootStatements.flatMap((s) => [s.Action].flat());

    // Assess
    expect(rootStatements).toHaveLength(1);
    expect(rootActions).not.toContain('kms:*');
    for (const action of ['kms:Sign', 'kms:CreateGrant', 'kms:Verify']) {
      expect(allows(rootActions, action), action).toBe(false);
    }
    for (const action of ['kms:PutKeyPolicy', 'kms:ScheduleKeyDeletion', 'kms:EnableKey']) {
      expect(allows(rootActions, action), action).toBe(true);
    }
  });

  it("is not CDK's default policy: kms:* appears nowhere in the template", () => {
    // Prepare
    const variants = [synth(), synth(ROTATION_STEPS.publish), synth({ openData: 'true' })];

    for (const { json } of variants) {
      // Act
      const text = JSON.stringify(json);

      // Assess
      expect(text).not.toContain('"kms:*"');
    }
  });
});

describe('the session routes', () => {
  it('publish the discovery document and the JWKS to anyone, with no GET /me without appIds', () => {
    // Prepare
    const { json, template } = synth();

    // Act
    const routes = Object.values(resourcesOf(json, 'AWS::ApiGatewayV2::Route')).map(
      (r) => r.Properties,
    );

    // Assess
    expect(routes.map((r) => r?.RouteKey).sort()).toEqual([
      'GET /.well-known/jwks.json',
      'GET /.well-known/openid-configuration',
      'POST /openid',
    ]);
    for (const r of routes) expect(r?.AuthorizationType).toBe('NONE');
    template.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 0);
  });

  it('say in one line at synth that GET /me needs appIds', () => {
    // Prepare
    const { stack } = createApp({ outdir: scratchDir() });

    // Act
    const annotations = Annotations.fromStack(stack);

    // Assess
    annotations.hasInfo(
      '/WeappOpenid/Http',
      Match.stringLikeRegexp('^No GET /me, POST /phone, DELETE /me route.*appIds'),
    );
  });

  it("warn at synth when the stage throttle exceeds KMS's shared RSA quota, and not below it", () => {
    // Prepare
    const above = createApp({ outdir: scratchDir(), context: { throttleRateLimit: '600' } });
    const below = createApp({ outdir: scratchDir() });

    // Act
    const warned = Annotations.fromStack(above.stack);
    const quiet = Annotations.fromStack(below.stack);

    // Assess
    warned.hasWarning('/WeappOpenid', Match.stringLikeRegexp('RSA request quota'));
    quiet.hasNoWarning('/WeappOpenid', Match.stringLikeRegexp('RSA request quota'));
  });

  it('put GET /me behind a JWT authorizer for the AppIDs, the issuer and the Authorization header', () => {
    // Prepare
    const { json, template } = synth(APP_IDS_CONTEXT);
    const authorizerId = onlyLogicalId(json, 'AWS::ApiGatewayV2::Authorizer');
    const apiId = onlyLogicalId(json, 'AWS::ApiGatewayV2::Api');

    // Act
    const [, me] = route(json, 'GET /me');

    // Assess
    expect(me.Properties).toMatchObject({
      AuthorizationType: 'JWT',
      AuthorizerId: { Ref: authorizerId },
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      ApiId: { Ref: apiId },
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: {
        Issuer: { 'Fn::GetAtt': [apiId, 'ApiEndpoint'] },
        Audience: ['wx0123456789abcdef', 'wx4f4bc4dec97d474b'],
      },
    });
  });

  it('give the authorizer the custom domain as issuer when there is one', () => {
    // Prepare / Act
    const { template } = synth({ ...DOMAIN_CONTEXT, ...APP_IDS_CONTEXT });

    // Assess
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      JwtConfiguration: Match.objectLike({ Issuer: 'https://login.example.com' }),
    });
  });

  it('all go to the one function through one payload 2.0 integration', () => {
    // Prepare
    const { json, template } = synth(APP_IDS_CONTEXT);
    const integrationId = onlyLogicalId(json, 'AWS::ApiGatewayV2::Integration');

    // Act
    const targets = Object.values(resourcesOf(json, 'AWS::ApiGatewayV2::Route')).map((r) =>
      JSON.stringify(r.Properties?.Target),
    );

    // Assess
    // The login, discovery, the keys, and GET /me, POST /phone, DELETE /me.
    expect(targets).toHaveLength(6);
    for (const target of targets) expect(target).toContain(`{"Ref":"${integrationId}"}`);
    template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
      PayloadFormatVersion: '2.0',
      IntegrationUri: { 'Fn::GetAtt': [onlyLogicalId(json, 'AWS::Lambda::Function'), 'Arn'] },
    });
  });
});

describe("the authorizer's creation order", () => {
  it('waits for both well-known routes and their permissions, the stage, the function and the key whose policy lets it read the JWKS', () => {
    // Prepare
    const { json } = synth(APP_IDS_CONTEXT);
    const [discoveryRoute] = route(json, 'GET /.well-known/openid-configuration');
    const [jwksRoute] = route(json, 'GET /.well-known/jwks.json');
    const expected = [
      discoveryRoute,
      permissionFor(json, '/.well-known/openid-configuration'),
      jwksRoute,
      permissionFor(json, '/.well-known/jwks.json'),
      onlyLogicalId(json, 'AWS::ApiGatewayV2::Stage'),
      onlyLogicalId(json, 'AWS::Lambda::Function'),
      keyId(json, 'default'),
    ];

    // Act
    const order = dependsOn(json, onlyLogicalId(json, 'AWS::ApiGatewayV2::Authorizer'));

    // Assess
    for (const id of expected) expect(id).toBeDefined();
    expect(new Set(expected).size).toBe(expected.length);
    expect(order).toEqual(expect.arrayContaining(expected));
  });

  it('also waits for the custom domain and its mapping when the domain is the issuer', () => {
    // Prepare
    const { json } = synth({ ...DOMAIN_CONTEXT, ...APP_IDS_CONTEXT });

    // Act
    const order = dependsOn(json, onlyLogicalId(json, 'AWS::ApiGatewayV2::Authorizer'));

    // Assess
    expect(order).toEqual(
      expect.arrayContaining([
        onlyLogicalId(json, 'AWS::ApiGatewayV2::DomainName'),
        onlyLogicalId(json, 'AWS::ApiGatewayV2::ApiMapping'),
        onlyLogicalId(json, 'AWS::ApiGatewayV2::Stage'),
      ]),
    );
  });

  it('is enforced by an API that fails its deploy on warnings, whatever the options', () => {
    // Prepare
    const variants = [synth(), synth(APP_IDS_CONTEXT), synth({ sessions: 'false' })];

    for (const { template } of variants) {
      // Act / Assess: a failed discovery fetch is a warning that would drop the authorizer.
      template.hasResourceProperties('AWS::ApiGatewayV2::Api', { FailOnWarnings: true });
    }
  });
});

describe('the session outputs', () => {
  it('give the issuer, exported for other stacks, and the JWKS URL', () => {
    // Prepare
    const { template, json } = synth();
    const endpoint = {
      'Fn::GetAtt': [onlyLogicalId(json, 'AWS::ApiGatewayV2::Api'), 'ApiEndpoint'],
    };

    // Act / Assess
    template.hasOutput('Issuer', { Value: endpoint, Export: { Name: 'WeappOpenid-Issuer' } });
    template.hasOutput('JwksUrl', {
      Value: { 'Fn::Join': ['', [endpoint, '/.well-known/jwks.json']] },
    });
  });

  it('are on the custom domain when there is one', () => {
    // Prepare / Act
    const { template } = synth(DOMAIN_CONTEXT);

    // Assess
    template.hasOutput('Issuer', { Value: 'https://login.example.com' });
    template.hasOutput('JwksUrl', { Value: 'https://login.example.com/.well-known/jwks.json' });
  });
});

describe('a session key rotation', () => {
  let steps: Record<keyof typeof ROTATION_STEPS, Json>;

  beforeAll(() => {
    steps = {
      start: synth(ROTATION_STEPS.start).json,
      publish: synth(ROTATION_STEPS.publish).json,
      switch: synth(ROTATION_STEPS.switch).json,
      retire: synth(ROTATION_STEPS.retire).json,
    };
  });

  it('never replaces a key: each keeps its logical id from the step that creates it to the one that removes it', () => {
    // Prepare
    const original = keyId(steps.start, 'default');
    const next = keyId(steps.publish, 'next');

    // Act
    const ids = Object.values(steps).map((json) => Object.keys(resourcesOf(json, 'AWS::KMS::Key')));

    // Assess
    expect(original).toBeDefined();
    expect(next).toBeDefined();
    expect(ids).toEqual([
      [original],
      expect.arrayContaining([original, next]),
      expect.arrayContaining([original, next]),
      [next],
    ]);
    for (const json of Object.values(steps)) {
      for (const key of Object.values(resourcesOf(json, 'AWS::KMS::Key'))) {
        expect(key.Properties).toMatchObject({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' });
      }
    }
  });

  it.each([
    ['start', 'default', []],
    ['publish', 'default', ['next']],
    ['switch', 'next', ['default']],
    ['retire', 'next', []],
  ] as const)('at step %s signs with %s and publishes %j besides', (step, signer, others) => {
    // Prepare
    const json = steps[step];
    const signerArn = arnOf(keyId(json, signer));
    const otherArns = others.map((name) => arnOf(keyId(json, name)));

    // Act
    const variables = environment(json);
    const published = variables.SESSION_PUBLISHED_KEY_IDS;

    // Assess: env
    expect(variables.SESSION_KEY_ID).toEqual(signerArn);
    expect(published).toEqual(otherArns[0]);
    // Assess: the key policies, Sign only on the signer, GetPublicKey on every published key.
    expect(useOf(json, signer)).toEqual([['kms:GetPublicKey', 'kms:Sign']]);
    for (const name of others) expect(useOf(json, name)).toEqual(['kms:GetPublicKey']);
  });

  it('publishes several other keys comma-separated, each with GetPublicKey only', () => {
    // Prepare
    const { json } = synth({ sessionKeys: 'a,b,c', sessionSigningKey: 'b' });
    const [a, b, c] = ['a', 'b', 'c'].map((name) => arnOf(keyId(json, name)));

    // Act
    const variables = environment(json);

    // Assess
    expect(variables.SESSION_KEY_ID).toEqual(b);
    expect(variables.SESSION_PUBLISHED_KEY_IDS).toEqual({ 'Fn::Join': ['', [a, ',', c]] });
    expect(useOf(json, 'b')).toEqual([['kms:GetPublicKey', 'kms:Sign']]);
    expect(useOf(json, 'a')).toEqual(['kms:GetPublicKey']);
    expect(useOf(json, 'c')).toEqual(['kms:GetPublicKey']);
  });
});
