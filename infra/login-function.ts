import { createRequire } from 'node:module';
import { Duration, Validations } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { ILogGroup } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { FUNCTION_TIMEOUT_SECONDS } from '../functions/routes/timeout.ts';
import { LOGIN_BUNDLING, LOGIN_FUNCTION_ENTRY } from './bundling.ts';

/**
 * Derived from the request's budgets (functions/commons/budgets.ts): the worst path plus
 * headroom, so a slow dependency still gets a problem+json answer and a log line, and a stuck
 * invocation is ended by Lambda (and counted in the Errors alarm) before API Gateway's 30 s
 * integration limit answers a bare 503.
 */
export const LOGIN_FUNCTION_TIMEOUT = Duration.seconds(FUNCTION_TIMEOUT_SECONDS);

/**
 * 256 MB: Lambda's CPU share grows with memory, and a login is dominated by cold-start
 * module loading and TLS handshakes (Secrets Manager, WeChat), which run noticeably faster
 * than at 128 MB for a cost that stays well under a dollar per million logins.
 * Replace with a measured figure (AWS Lambda Power Tuning) once real traffic exists.
 */
export const LOGIN_FUNCTION_MEMORY_MB = 256;

/** What varies between deployments; everything else is fixed by {@link LoginFunction}. */
export interface LoginFunctionProps {
  /** The function's log group; its retention and removal policy are the stack's decision. */
  readonly logGroup: ILogGroup;
  /** The function's environment variables (never a credential). */
  readonly environment: Record<string, string>;
}

/**
 * The login Lambda with every project default in one place: Node.js 24 on arm64, a
 * self-contained minified ESM bundle with source maps, built by local esbuild (never
 * Docker), logging to an explicit log group through a role that may write only there.
 */
export class LoginFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: LoginFunctionProps) {
    assertLocalEsbuild();
    // A role of our own instead of the default one: the default attaches
    // AWSLambdaBasicExecutionRole, which may write to any log group in the account.
    // It is a sibling of the function because super() needs it before `this` exists.
    const role = new Role(scope, `${id}Role`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description:
        'weapp-openid login function: write its own logs, read its WeChat secret, sign session tokens, keep user records',
    });
    super(scope, id, {
      entry: LOGIN_FUNCTION_ENTRY,
      handler: 'handler',
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: LOGIN_FUNCTION_MEMORY_MB,
      timeout: LOGIN_FUNCTION_TIMEOUT,
      role,
      logGroup: props.logGroup,
      // Keeps the SDK's connection-reuse variable out: SDK v3 reuses connections anyway.
      awsSdkConnectionReuse: false,
      environment: {
        ...props.environment,
        // Stack traces point at functions/*.ts instead of the minified bundle.
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: {
        forceDockerBundling: false,
        format: OutputFormat.ESM,
        target: LOGIN_BUNDLING.target,
        minify: LOGIN_BUNDLING.minify,
        sourceMap: LOGIN_BUNDLING.sourceMap,
        mainFields: [...LOGIN_BUNDLING.mainFields],
        // Self-contained: nothing is taken from the runtime's copy of the AWS SDK.
        externalModules: [],
      },
    });
    props.logGroup.grantWrite(role);

    Validations.of(this).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason:
        'Invoked only synchronously by API Gateway: a failed login is answered to the caller at once, and there is no event to park and replay (the code expires in 5 minutes anyway).',
    });
    Validations.of(this).acknowledge({
      id: 'Serverless-LambdaTracing',
      reason:
        'HTTP APIs cannot start X-Ray traces, and the two calls a login makes are already timed in its log line (wechatMs) and EMF metric (WechatLatency); tracing would add xray:Put* on Resource::* to the role for no new insight.',
    });
  }
}

/**
 * NodejsFunction silently falls back to Docker when it cannot find esbuild; this project
 * never bundles with Docker, so a missing esbuild is reported as what it is.
 */
function assertLocalEsbuild(): void {
  try {
    createRequire(import.meta.url).resolve('esbuild');
  } catch (error) {
    throw new Error('esbuild is not installed: run `npm ci` (bundling never uses Docker).', {
      cause: error,
    });
  }
}
