import {
  Annotations,
  CfnOutput,
  RemovalPolicy,
  Stack,
  type StackProps,
  Validations,
} from 'aws-cdk-lib';
import { type IRole, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { ENV } from '../functions/commons/names.ts';
import { jwks, servedRoutes } from '../functions/routes/index.ts';
import type { Feature } from '../functions/routes/route.ts';
import type { DeploymentConfig, SessionConfig } from './config.ts';

/** KMS's default cryptographic request quota for RSA keys, per account and region. */
const KMS_RSA_QUOTA_PER_SECOND = 500;

import { LoginDashboard } from './dashboard.ts';
import { LoginAlarms } from './login-alarms.ts';
import { LoginApi, type LoginApiSessions } from './login-api.ts';
import { LoginFunction } from './login-function.ts';
import { OpenDataKey } from './open-data-key.ts';
import { SessionKeys } from './session-keys.ts';
import { UsersTable } from './users-table.ts';

/** Props of {@link OpenidStack}: the stack's own props plus the operator's choices. */
export interface OpenidStackProps extends StackProps {
  readonly config: DeploymentConfig;
}

/**
 * `POST /openid` on an HTTP API, a Lambda that exchanges the wx.login() code with WeChat,
 * the Secrets Manager secret holding the AppSecret, and the logs, alarms and dashboard to run
 * it; with sessions (the default), the KMS keys that sign session tokens and the routes that
 * publish and check them; with users (the default), the table of user records; with open
 * data, the KMS key that seals the kept session_keys.
 */
export class OpenidStack extends Stack {
  /** What is on in this deployment; the API routes what these features serve. */
  readonly features: ReadonlySet<Feature>;

  constructor(scope: Construct, id: string, props: OpenidStackProps) {
    super(scope, id, props);
    const { config } = props;
    // Logs are kept by default: they may be needed to investigate after a teardown.
    const logRemovalPolicy = config.destroyLogsOnDelete
      ? RemovalPolicy.DESTROY
      : RemovalPolicy.RETAIN;

    const secret = this.secret(config);
    const logGroup = new LogGroup(this, 'FunctionLogs', {
      retention: config.logRetentionDays,
      removalPolicy: logRemovalPolicy,
    });
    const fn = new LoginFunction(this, 'LoginFunction', {
      logGroup,
      environment: {
        // The name, not a partial ARN, for an imported-by-name secret: Secrets Manager
        // resolves a name exactly, whereas a suffix-less ARN is matched by guesswork.
        [ENV.secretId]: config.secretName ?? secret.secretArn,
        ...optional(ENV.wechatApiBaseUrl, config.wechatApiBaseUrl),
        ...optional(ENV.wechatTimeoutMs, config.wechatTimeoutMs),
        ...optional(ENV.secretCacheTtlSeconds, config.secretCacheTtlSeconds),
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

    const sessions = config.sessions && this.sessions(fn, config.sessions);
    if (sessions && config.throttleRateLimit > KMS_RSA_QUOTA_PER_SECOND) {
      // Every login signs once; past the account's shared RSA quota, KMS throttles and the
      // login is answered 503 after WeChat has spent its code.
      Annotations.of(this).addWarningV2(
        'weapp-openid:kms-rsa-quota',
        `throttleRateLimit ${config.throttleRateLimit}/s is above KMS's ${KMS_RSA_QUOTA_PER_SECOND}/s RSA request quota, which every login's Sign shares with the account: raise that quota first (Service Quotas, KMS) or lower throttleRateLimit.`,
      );
    }

    if (config.users) this.users(fn, config.openData);
    this.features = new Set<Feature>([
      ...(sessions ? (['tokens'] as const) : []),
      ...(config.users ? (['users'] as const) : []),
      ...(config.openData ? (['openData'] as const) : []),
    ]);
    const api = new LoginApi(this, 'Http', {
      fn,
      routes: servedRoutes(this.features),
      throttle: { rateLimit: config.throttleRateLimit, burstLimit: config.throttleBurstLimit },
      logRetention: config.logRetentionDays,
      logRemovalPolicy,
      customDomain:
        config.domainName && config.certificateArn
          ? {
              domainName: config.domainName,
              certificateArn: config.certificateArn,
              keepExecuteApiEndpoint: config.keepExecuteApiEndpoint,
            }
          : undefined,
      sessions,
    });
    if (sessions) fn.addEnvironment(ENV.sessionIssuer, api.issuer);
    new LoginAlarms(this, 'Alarms', {
      fn,
      stage: api.stage,
      alarmEmail: config.alarmEmail,
      users: config.users,
    });
    const { dashboard } = new LoginDashboard(this, 'Dashboard', {
      fn,
      phone: Boolean(sessions),
      users: config.users,
    });

    new CfnOutput(this, 'EndpointUrl', {
      description: 'POST {"code": "<wx.login() code>"} here',
      value: api.endpointUrl,
    });
    new CfnOutput(this, 'BaseUrl', {
      description:
        "The client's baseUrl (createClient({ baseUrl })): the API's base URL, without /openid",
      // The issuer is exactly that URL: the custom domain, else the execute-api endpoint, no
      // trailing slash.
      value: api.issuer,
    });
    new CfnOutput(this, 'RequestDomain', {
      description: 'Register https://<this host> as a request domain in the mini program console',
      value: api.requestDomain,
    });
    if (api.customDomainTarget) {
      new CfnOutput(this, 'CustomDomainTarget', {
        description: `Point a CNAME (or alias) for ${config.domainName} at this name`,
        value: api.customDomainTarget,
      });
    }
    if (config.secretName) {
      // Imported by name, the full ARN (with its random suffix) is unknown until deploy time.
      new CfnOutput(this, 'SecretName', {
        description: 'The secret holding the WeChat credentials (use as --secret-id)',
        value: config.secretName,
      });
    } else {
      new CfnOutput(this, 'SecretArn', {
        description: 'Write the WeChat credentials here with aws secretsmanager put-secret-value',
        value: secret.secretArn,
      });
    }
    new CfnOutput(this, 'FunctionName', { value: fn.functionName });
    new CfnOutput(this, 'FunctionLogGroupName', { value: logGroup.logGroupName });
    new CfnOutput(this, 'ApiAccessLogGroupName', { value: api.accessLogs.logGroupName });
    new CfnOutput(this, 'DashboardName', {
      description: 'The CloudWatch dashboard of logins, phone binds, latency and failures',
      value: dashboard.dashboardName,
    });
    if (sessions) {
      new CfnOutput(this, 'Issuer', {
        description:
          "The session tokens' iss; give it to WeappSessionAuthorizer to protect your own routes",
        value: api.issuer,
        exportName: `${this.stackName}-Issuer`,
      });
      new CfnOutput(this, 'JwksUrl', {
        description: 'The public keys that verify session tokens',
        value: `${api.issuer}${jwks.path}`,
      });
    }
  }

  /**
   * The signing keys, the function's grant on them and its session variables (all but the
   * issuer, which only exists with the API).
   */
  private sessions(fn: LoginFunction, config: SessionConfig): LoginApiSessions {
    const keys = new SessionKeys(this, 'SessionKeys', {
      names: config.keys,
      signingKey: config.signingKey,
      signer: roleOf(fn),
    });
    for (const [name, value] of Object.entries({
      ...keys.environment,
      ...optional(ENV.sessionTtlSeconds, config.ttlSeconds),
    })) {
      fn.addEnvironment(name, value);
    }
    return { appIds: config.appIds, authorizerDependsOn: keys.all };
  }

  /**
   * The users table, the function's grant on it and its variable; with open data, the key
   * that seals the kept session_keys, likewise.
   */
  private users(fn: LoginFunction, openData: boolean): void {
    const users = new UsersTable(this, 'Users');
    users.grantTo(fn);
    const environment = { ...users.environment };
    if (openData) {
      const key = new OpenDataKey(this, 'OpenData', { user: roleOf(fn) });
      Object.assign(environment, key.environment);
    }
    for (const [name, value] of Object.entries(environment)) fn.addEnvironment(name, value);
  }

  /** The operator's existing secret, or a new one that holds no usable credentials. */
  private secret(config: DeploymentConfig): ISecret {
    if (config.secretArn) return Secret.fromSecretCompleteArn(this, 'Secret', config.secretArn);
    if (config.secretName) return Secret.fromSecretNameV2(this, 'Secret', config.secretName);
    const secret = new Secret(this, 'Secret', {
      description: 'weapp-openid: WeChat mini program AppID and AppSecret (see docs/operators.md)',
      // A random placeholder, so no credential is ever in the template; the operator writes the
      // real value with put-secret-value. Until then the function answers `misconfigured`.
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

/** The function's role, which the stack's key policies name. */
function roleOf(fn: LoginFunction): IRole {
  if (!fn.role) throw new Error('The login function has no role to grant the keys to.');
  return fn.role;
}

function optional(name: string, value: string | number | undefined): Record<string, string> {
  return value === undefined ? {} : { [name]: String(value) };
}
