import { Annotations, type RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { AccessLogField, AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  ApiMapping,
  type CfnApi,
  DomainName,
  HttpApi,
  HttpMethod,
  type HttpRoute,
  HttpStage,
  LogGroupLogDestination,
  PayloadFormatVersion,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct, type IDependable } from 'constructs';
import { type Route, routeKey } from '../functions/routes/route.ts';
import { WeappSessionAuthorizer } from './session-authorizer.ts';

/** How the API is exposed; see `DeploymentConfig` for what each value means. */
export interface LoginApiProps {
  readonly fn: IFunction;
  /** The function's routes that are on in this deployment (functions/routes/index.ts). */
  readonly routes: readonly Route[];
  readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };
  readonly logRetention: RetentionDays;
  readonly logRemovalPolicy: RemovalPolicy;
  readonly customDomain?: LoginApiCustomDomain;
  /** The session routes, when sessions are on. */
  readonly sessions?: LoginApiSessions;
}

/** The custom domain's part of {@link LoginApiProps}. */
export interface LoginApiCustomDomain {
  readonly domainName: string;
  /** An ACM certificate for `domainName` in the stack's region. */
  readonly certificateArn: string;
  /** Keep the `execute-api` endpoint answering too; by default the domain is the only way in. */
  readonly keepExecuteApiEndpoint?: boolean;
}

/** The session routes' part of {@link LoginApiProps}. */
export interface LoginApiSessions {
  /** AppIDs whose tokens the token routes accept; empty = no token routes. */
  readonly appIds: readonly string[];
  /**
   * What else must exist before the JWT authorizer is created: the session keys, whose
   * policies let the function read them for the JWKS.
   */
  readonly authorizerDependsOn: readonly IDependable[];
}

/**
 * `POST /openid` on an HTTP API: one throttled `$default` stage with JSON access logs, and
 * optionally a custom domain mapped to it, which then turns the `execute-api` endpoint off
 * unless told to keep it. With sessions, also the discovery document and the JWKS (public),
 * and `GET /me` behind the JWT authorizer when AppIDs are given. Nothing else is routed; API
 * Gateway itself answers 404 for other paths and methods.
 */
export class LoginApi extends Construct {
  readonly api: HttpApi;
  readonly stage: HttpStage;
  readonly accessLogs: LogGroup;
  /** `https://…/openid`, on the custom domain when there is one. */
  readonly endpointUrl: string;
  /** The host the mini program calls, to register as a request domain in its console. */
  readonly requestDomain: string;
  /** Where the custom domain's CNAME must point, when there is one. */
  readonly customDomainTarget: string | undefined;
  /**
   * The tokens' `iss`: `https://{custom domain}`, else the API's own base URL. Both without a
   * trailing slash (the stage's `url` has one, so it is not used).
   */
  readonly issuer: string;
  /** The authorizer of `GET /me`, when there is one. */
  readonly sessionAuthorizer: WeappSessionAuthorizer | undefined;

  private readonly integration: HttpLambdaIntegration;
  /** Resources that API Gateway's requests to the issuer's host go through. */
  private readonly issuerPath: IDependable[] = [];

  constructor(scope: Construct, id: string, props: LoginApiProps) {
    super(scope, id);
    const { customDomain } = props;
    const api = new HttpApi(this, 'Api', {
      description: 'weapp-openid: WeChat mini program login (code -> openid)',
      // HttpApiProps cannot give the built-in stage throttling or access logs: ours is below.
      createDefaultStage: false,
      // A mini program may only call its registered domain, so with one the execute-api host is
      // a second door that bypasses whatever stands in front of the domain. Without a domain it
      // is the only door, and the property stays out of the template.
      disableExecuteApiEndpoint: customDomain ? !customDomain.keepExecuteApiEndpoint : undefined,
    });
    this.api = api;
    // A JWT authorizer whose discovery fetch fails is otherwise dropped with a warning while
    // the deploy succeeds, leaving its routes missing; this makes it a failed deploy.
    (api.node.defaultChild as CfnApi).failOnWarnings = true;
    this.integration = new HttpLambdaIntegration('Login', props.fn, {
      payloadFormatVersion: PayloadFormatVersion.VERSION_2_0,
    });

    this.accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy,
    });
    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: api,
      autoDeploy: true,
      throttle: props.throttle,
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogs),
        format: accessLogFormat(),
      },
    });
    Validations.of(this.stage).acknowledge({
      id: 'Serverless-APIGWXrayEnabled',
      reason:
        'HTTP APIs do not support X-Ray tracing; the access log and the function log line share the request id instead.',
    });
    this.issuerPath.push(this.stage);

    if (customDomain) {
      const certificate = Certificate.fromCertificateArn(
        this,
        'Certificate',
        customDomain.certificateArn,
      );
      const domainName = new DomainName(this, 'CustomDomain', {
        domainName: customDomain.domainName,
        certificate,
      });
      const mapping = new ApiMapping(this, 'CustomDomainMapping', {
        api,
        domainName,
        stage: this.stage,
      });
      this.issuerPath.push(domainName, mapping);
      this.endpointUrl = `https://${customDomain.domainName}/openid`;
      this.requestDomain = customDomain.domainName;
      this.customDomainTarget = domainName.regionalDomainName;
      this.issuer = `https://${customDomain.domainName}`;
    } else {
      const stack = Stack.of(this);
      this.endpointUrl = `${this.stage.url}openid`;
      // Built from tokens, not "amazonaws.com": the suffix is amazonaws.com.cn in the China regions.
      this.requestDomain = `${api.apiId}.execute-api.${stack.region}.${stack.urlSuffix}`;
      this.customDomainTarget = undefined;
      this.issuer = api.apiEndpoint;
    }

    const publicRoutes = props.routes.flatMap((route) =>
      route.access === 'token' ? [] : [this.publicRoute(route, route.access.public)],
    );
    const tokenRoutes = props.routes.filter((route) => route.access === 'token');
    this.sessionAuthorizer =
      props.sessions && tokenRoutes.length > 0
        ? this.tokenRoutes(tokenRoutes, publicRoutes, props.fn, props.sessions)
        : undefined;
  }

  /**
   * The routes that take a session token, behind the JWT authorizer. API Gateway reads
   * `{issuer}/.well-known/openid-configuration` and the JWKS when it *creates* the
   * authorizer, so the authorizer waits for everything that answers them: the public routes
   * with their Lambda permissions (one per route), the stage (and the custom domain's
   * mapping), the function and the keys whose policies let it read them.
   */
  private tokenRoutes(
    routes: readonly Route[],
    publicRoutes: readonly HttpRoute[],
    fn: IFunction,
    sessions: LoginApiSessions,
  ): WeappSessionAuthorizer | undefined {
    if (sessions.appIds.length === 0) {
      Annotations.of(this).addInfo(
        `No ${routes.map(routeKey).join(', ')} route: deploy with -c appIds=wx…,wx… (the AppIDs whose tokens it accepts) to add it behind the JWT authorizer.`,
      );
      return undefined;
    }
    const authorizer = new WeappSessionAuthorizer('SessionAuthorizer', {
      issuer: this.issuer,
      appIds: sessions.appIds,
    });
    for (const route of routes) {
      this.api.addRoutes({
        path: route.path,
        methods: [HttpMethod[route.method]],
        integration: this.integration,
        authorizer,
      });
    }
    authorizer.cfnAuthorizer.node.addDependency(
      ...publicRoutes,
      ...this.issuerPath,
      fn,
      ...sessions.authorizerDependsOn,
    );
    return authorizer;
  }

  /** A route anyone may call, with the reason it needs no authorizer. */
  private publicRoute({ method, path }: Route, reason: string): HttpRoute {
    const [route] = this.api.addRoutes({
      path,
      methods: [HttpMethod[method]],
      integration: this.integration,
    });
    if (!route) throw new Error(`No route was created for ${method} ${path}.`);
    Validations.of(route).acknowledge({ id: 'AwsSolutions-APIG4', reason });
    return route;
  }
}

/**
 * JSON, one object per request, with the fields needed to find a request: the request id is
 * the one in the function's log line and in the caller's problem+json `requestId`.
 */
function accessLogFormat(): AccessLogFormat {
  return AccessLogFormat.custom(
    JSON.stringify({
      requestId: AccessLogField.contextRequestId(),
      ip: AccessLogField.contextIdentitySourceIp(),
      requestTime: AccessLogField.contextRequestTime(),
      httpMethod: AccessLogField.contextHttpMethod(),
      routeKey: AccessLogField.contextRouteKey(),
      status: AccessLogField.contextStatus(),
      protocol: AccessLogField.contextProtocol(),
      responseLength: AccessLogField.contextResponseLength(),
      integrationError: AccessLogField.contextIntegrationErrorMessage(),
      integrationLatency: AccessLogField.contextIntegrationLatency(),
    }),
  );
}
