import { type RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { AccessLogField, AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  ApiMapping,
  DomainName,
  HttpApi,
  HttpMethod,
  HttpStage,
  LogGroupLogDestination,
  PayloadFormatVersion,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** How the API is exposed; see `DeploymentConfig` for what each value means. */
export interface LoginApiProps {
  readonly fn: IFunction;
  readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };
  readonly logRetention: RetentionDays;
  readonly logRemovalPolicy: RemovalPolicy;
  readonly customDomain?: { readonly domainName: string; readonly certificateArn: string };
}

/**
 * `POST /openid` on an HTTP API: one throttled `$default` stage with JSON access logs, and
 * optionally a custom domain mapped to it. Nothing else is routed; API Gateway itself answers
 * 404 for other paths and methods.
 */
export class LoginApi extends Construct {
  readonly stage: HttpStage;
  readonly accessLogs: LogGroup;
  /** `https://…/openid`, on the custom domain when there is one. */
  readonly endpointUrl: string;
  /** The host the mini program calls, to register as a request domain in its console. */
  readonly requestDomain: string;
  /** Where the custom domain's CNAME must point, when there is one. */
  readonly customDomainTarget: string | undefined;

  constructor(scope: Construct, id: string, props: LoginApiProps) {
    super(scope, id);
    const api = new HttpApi(this, 'Api', {
      description: 'weapp-openid: WeChat mini program login (code -> openid)',
      // HttpApiProps cannot give the built-in stage throttling or access logs: ours is below.
      createDefaultStage: false,
    });
    const [route] = api.addRoutes({
      path: '/openid',
      methods: [HttpMethod.POST],
      integration: new HttpLambdaIntegration('Login', props.fn, {
        payloadFormatVersion: PayloadFormatVersion.VERSION_2_0,
      }),
    });
    if (route) {
      Validations.of(route).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          'Public by design: the wx.login() code in the body is the credential. It is single-use, valid 5 minutes, and only WeChat can mint one for this AppID.',
      });
    }

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

    const { customDomain } = props;
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
      new ApiMapping(this, 'CustomDomainMapping', { api, domainName, stage: this.stage });
      this.endpointUrl = `https://${customDomain.domainName}/openid`;
      this.requestDomain = customDomain.domainName;
      this.customDomainTarget = domainName.regionalDomainName;
    } else {
      const stack = Stack.of(this);
      this.endpointUrl = `${this.stage.url}openid`;
      // Built from tokens, not "amazonaws.com": the suffix is amazonaws.com.cn in the China regions.
      this.requestDomain = `${api.apiId}.execute-api.${stack.region}.${stack.urlSuffix}`;
      this.customDomainTarget = undefined;
    }
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
