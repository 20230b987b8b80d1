import { App, Fn, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { CfnAuthorizer, HttpApi, HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpUrlIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { describe, expect, it } from 'vitest';
import { WeappSessionAuthorizer } from '../../infra/session-authorizer.ts';

const APP_IDS = ['wx0123456789abcdef', 'wx4f4bc4dec97d474b'];

/** An operator's own stack with an HTTP API of its own, as in the example of docs/operators.md. */
function operatorApi(): { stack: Stack; api: HttpApi; integration: HttpUrlIntegration } {
  const stack = new Stack(new App(), 'Orders');
  const api = new HttpApi(stack, 'OrdersApi', { description: 'not ours' });
  const integration = new HttpUrlIntegration('Backend', 'https://orders.example.com');
  return { stack, api, integration };
}

function errorOf(run: () => unknown): Error | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return error as Error;
  }
}

describe('WeappSessionAuthorizer', () => {
  it('protects routes of another API with the imported issuer, the AppIDs and the Authorization header', () => {
    // Prepare
    const { stack, api, integration } = operatorApi();
    const authorizer = new WeappSessionAuthorizer('WeappSession', {
      issuer: Fn.importValue('WeappOpenid-Issuer'),
      appIds: APP_IDS,
    });

    // Act
    api.addRoutes({ path: '/orders', methods: [HttpMethod.GET], integration, authorizer });
    api.addRoutes({ path: '/orders', methods: [HttpMethod.POST], integration, authorizer });
    const template = Template.fromStack(stack);

    // Assess: one authorizer serves both routes.
    template.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: {
        Issuer: { 'Fn::ImportValue': 'WeappOpenid-Issuer' },
        Audience: APP_IDS,
      },
    });
    for (const routeKey of ['GET /orders', 'POST /orders']) {
      template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
        RouteKey: routeKey,
        AuthorizationType: 'JWT',
      });
    }
  });

  it('requires the phone scope on a route given requirePhone(), and on no other route of the same authorizer', () => {
    // Prepare
    const { stack, api, integration } = operatorApi();
    const sessions = new WeappSessionAuthorizer('WeappSession', {
      issuer: 'https://login.example.com',
      appIds: APP_IDS,
    });

    // Act
    api.addRoutes({
      path: '/orders',
      methods: [HttpMethod.GET],
      integration,
      authorizer: sessions,
    });
    api.addRoutes({
      path: '/checkout',
      methods: [HttpMethod.POST],
      integration,
      ...sessions.requirePhone(),
    });
    const template = Template.fromStack(stack);

    // Assess: API Gateway checks the route's scopes against the token's `scope` claim.
    template.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: 'POST /checkout',
      AuthorizationType: 'JWT',
      AuthorizationScopes: ['phone'],
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: 'GET /orders',
      AuthorizationType: 'JWT',
      AuthorizationScopes: Match.absent(),
    });
  });

  it('names the phone scope for routes that give their authorizationScopes by hand', () => {
    // Prepare
    const { stack, api, integration } = operatorApi();
    const authorizer = new WeappSessionAuthorizer('WeappSession', {
      issuer: 'https://login.example.com',
      appIds: APP_IDS,
    });

    // Act
    api.addRoutes({
      path: '/checkout',
      methods: [HttpMethod.POST],
      integration,
      authorizer,
      authorizationScopes: [WeappSessionAuthorizer.PHONE_SCOPE],
    });

    // Assess
    Template.fromStack(stack).hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: 'POST /checkout',
      AuthorizationScopes: ['phone'],
    });
  });

  it('gives its CloudFormation resource once a route uses it, for DependsOn', () => {
    // Prepare
    const { api, integration } = operatorApi();
    const authorizer = new WeappSessionAuthorizer('WeappSession', {
      issuer: 'https://login.example.com',
      appIds: APP_IDS,
    });

    // Act
    const beforeRoute = errorOf(() => authorizer.cfnAuthorizer);
    api.addRoutes({ path: '/orders', methods: [HttpMethod.GET], integration, authorizer });
    const afterRoute = authorizer.cfnAuthorizer;

    // Assess
    expect(beforeRoute?.message).toMatch(/on no route yet/);
    expect(afterRoute).toBeInstanceOf(CfnAuthorizer);
  });

  it('refuses to serve a second API, whose routes would get the first API authorizer', () => {
    // Prepare
    const { stack, api, integration } = operatorApi();
    const other = new HttpApi(stack, 'OtherApi');
    const authorizer = new WeappSessionAuthorizer('WeappSession', {
      issuer: 'https://login.example.com',
      appIds: APP_IDS,
    });
    api.addRoutes({ path: '/orders', methods: [HttpMethod.GET], integration, authorizer });

    // Act
    const reuse = () =>
      other.addRoutes({
        path: '/cart',
        methods: [HttpMethod.GET],
        integration: new HttpUrlIntegration('Cart', 'https://cart.example.com'),
        authorizer,
      });

    // Assess
    expect(reuse).toThrow(/already serves another API: create one per API/);
  });

  it.each([
    ['https://login.example.com/', /without a trailing slash/],
    ['http://login.example.com', /must be an https URL/],
    ['login.example.com', /must be an https URL/],
  ])('refuses the issuer %s, which no token carries', (issuer, message) => {
    // Prepare / Act
    const create = () => new WeappSessionAuthorizer('WeappSession', { issuer, appIds: APP_IDS });

    // Assess
    expect(create).toThrow(message);
  });

  it.each([
    ['no AppID', [], /give 1 to 50 AppIDs/],
    [
      '51 AppIDs',
      Array.from({ length: 51 }, (_, i) => `wx${i.toString(16).padStart(16, '0')}`),
      /give 1 to 50 AppIDs/,
    ],
    ['a malformed AppID', ['wx0123'], /"wx0123" is not an AppID/],
  ])('refuses %s', (_name, appIds, message) => {
    // Prepare / Act
    const create = () =>
      new WeappSessionAuthorizer('WeappSession', { issuer: 'https://login.example.com', appIds });

    // Assess
    expect(create).toThrow(message);
  });
});
