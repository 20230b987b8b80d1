import { CfnOutput, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
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
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { DeploymentConfig } from './config.ts';
import { LoginAlarms } from './login-alarms.ts';
import { LoginFunction } from './login-function.ts';

/** Props of {@link OpenidStack}: the stack's own props plus the operator's choices. */
export interface OpenidStackProps extends StackProps {
  readonly config: DeploymentConfig;
}

/**
 * `POST /openid` on an HTTP API, a Lambda that exchanges the wx.login() code with WeChat,
 * the Secrets Manager secret holding the AppSecret, and the logs and alarms to run it.
 */
export class OpenidStack extends Stack {
  constructor(scope: Construct, id: string, props: OpenidStackProps) {
    super(scope, id, props);
    const { config } = props;
    const logRemoval = config.destroyLogsOnDelete ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;

    const secret = this.secret(config);
    const logGroup = new LogGroup(this, 'FunctionLogs', {
      retention: config.logRetentionDays,
      removalPolicy: logRemoval,
    });
    const fn = new LoginFunction(this, 'LoginFunction', {
      logGroup,
      environment: {
        // The name, not a partial ARN, for an imported-by-name secret: Secrets Manager
        // resolves a name exactly, whereas a suffix-less ARN is matched by guesswork.
        WECHAT_SECRET_ID: config.secretName ?? secret.secretArn,
        ...optional('WECHAT_API_BASE_URL', config.wechatApiBaseUrl),
        ...optional('WECHAT_TIMEOUT_MS', config.wechatTimeoutMs),
        ...optional('SECRET_CACHE_TTL_SECONDS', config.secretCacheTtlSeconds),
      },
    });
    // GetSecretValue only (not grantRead, which adds DescribeSecret the function never calls).
    // A name-imported secret's ARN ends in a random 6-character suffix, hence `-??????`.
    // A secret encrypted with a customer-managed KMS key also needs kms:Decrypt on that key:
    // the key's owner grants it (docs/operators.md).
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['secretsmanager:GetSecretValue'],
        resources: [config.secretName ? `${secret.secretArn}-??????` : secret.secretArn],
      }),
    );

    const api = new HttpApi(this, 'Api', {
      description: 'weapp-openid: WeChat mini program login (code -> openid)',
      // Our own $default stage below, because the built-in one cannot take access logs.
      createDefaultStage: false,
    });
    const [route] = api.addRoutes({
      path: '/openid',
      methods: [HttpMethod.POST],
      integration: new HttpLambdaIntegration('Login', fn, {
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

    const accessLogs = new LogGroup(this, 'ApiAccessLogs', {
      retention: config.logRetentionDays,
      removalPolicy: logRemoval,
    });
    const stage = new HttpStage(this, 'DefaultStage', {
      httpApi: api,
      autoDeploy: true,
      throttle: { rateLimit: config.throttleRateLimit, burstLimit: config.throttleBurstLimit },
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: accessLogFormat(),
      },
    });
    Validations.of(stage).acknowledge({
      id: 'Serverless-APIGWXrayEnabled',
      reason:
        'HTTP APIs do not support X-Ray tracing; the access log and the function log line share the request id instead.',
    });

    let endpoint = `${stage.url}openid`;
    let requestHost = `${api.apiId}.execute-api.${this.region}.${this.urlSuffix}`;
    if (config.domainName && config.certificateArn) {
      const domain = new DomainName(this, 'CustomDomain', {
        domainName: config.domainName,
        certificate: Certificate.fromCertificateArn(this, 'Certificate', config.certificateArn),
      });
      new ApiMapping(this, 'CustomDomainMapping', { api, domainName: domain, stage });
      endpoint = `https://${config.domainName}/openid`;
      requestHost = config.domainName;
      new CfnOutput(this, 'CustomDomainTarget', {
        description: `Point a CNAME (or alias) for ${config.domainName} at this name`,
        value: domain.regionalDomainName,
      });
    }

    new LoginAlarms(this, 'Alarms', { fn, stage, alarmEmail: config.alarmEmail });

    new CfnOutput(this, 'EndpointUrl', {
      description: 'POST {"code": "<wx.login() code>"} here',
      value: endpoint,
    });
    new CfnOutput(this, 'RequestDomain', {
      description: 'Register https://<this host> as a request domain in the mini program console',
      value: requestHost,
    });
    new CfnOutput(this, 'SecretArn', {
      description: 'Write the WeChat credentials here with aws secretsmanager put-secret-value',
      value: secret.secretArn,
    });
    new CfnOutput(this, 'FunctionName', { value: fn.functionName });
    new CfnOutput(this, 'FunctionLogGroupName', { value: logGroup.logGroupName });
    new CfnOutput(this, 'ApiAccessLogGroupName', { value: accessLogs.logGroupName });
  }

  /** The operator's existing secret, or a new one that holds no usable credentials. */
  private secret(config: DeploymentConfig): ISecret {
    if (config.secretArn) return Secret.fromSecretCompleteArn(this, 'Secret', config.secretArn);
    if (config.secretName) return Secret.fromSecretNameV2(this, 'Secret', config.secretName);
    const secret = new Secret(this, 'Secret', {
      description: 'weapp-openid: WeChat mini program AppID and AppSecret (see docs/operators.md)',
      // A random placeholder, so no credential is ever in the template; the operator writes the
      // real value with put-secret-value. Until then WeChat answers 40013 → `misconfigured`.
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ appId: 'REPLACE_WITH_YOUR_APPID' }),
        generateStringKey: 'appSecret',
        excludePunctuation: true,
      },
      // The operator's AppSecret must not vanish with a `cdk destroy`; delete it by hand.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The AppSecret is issued by WeChat and can only be reset by a person in the mini program console; a rotation Lambda cannot change it. Rotation is documented as put-secret-value, which the function picks up without a redeploy.',
    });
    return secret;
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

function optional(name: string, value: string | number | undefined): Record<string, string> {
  return value === undefined ? {} : { [name]: String(value) };
}
