import { createAccessTokens } from './adapters/access-tokens.ts';
import {
  type AwsCredentials,
  createAwsJsonClient,
  credentialsFromEnv,
} from './adapters/aws-json.ts';
import { createDynamoUsers } from './adapters/dynamodb-users.ts';
import { createKmsKeys } from './adapters/kms-keys.ts';
import { createSecretStore, createStaticSource } from './adapters/secret-store.ts';
import { createSecretsManagerReader } from './adapters/secrets-manager.ts';
import { createKmsSealer } from './adapters/session-key-sealer.ts';
import { createWechatClient } from './adapters/wechat-client.ts';
import { KMS, phoneWechatMs, USERS } from './commons/budgets.ts';
import { ENV } from './commons/names.ts';
import { type AwsTarget, type Config, ConfigError } from './config.ts';
import { singleAppRegistry } from './domain/apps.ts';
import { createLogin } from './domain/login.ts';
import { createReadOpenData, type SessionKeySealer } from './domain/open-data.ts';
import { createBindPhone } from './domain/phone.ts';
import type { CredentialSource, Logger } from './domain/ports.ts';
import { Problem } from './domain/problem.ts';
import { createTokenIssuer, type TokenKeys } from './domain/token.ts';
import type { UserStore } from './domain/users.ts';
import { type ApiHandler, createHandler } from './handler/http-handler.ts';
import { servedRoutes } from './routes/index.ts';
import { featuresOf, type RouteDeps } from './routes/route.ts';

// Through process.getBuiltinModule, as the adapters do: no ESM facade on the cold start.
const { randomUUID } = process.getBuiltinModule('node:crypto');

/**
 * The credential source a configuration asks for: Secrets Manager behind the cache, or the
 * AppID/AppSecret given in the environment. The sandbox builds its own (functions/local).
 */
export function credentialSource(
  config: Config,
  log: Logger,
  awsCredentials: () => Promise<AwsCredentials> = credentialsFromEnv,
): CredentialSource {
  const { credentials } = config;
  switch (credentials.kind) {
    case 'secret': {
      const read = createSecretsManagerReader({
        region: credentials.region,
        endpoint: credentials.endpoint,
        credentials: awsCredentials,
      });
      return createSecretStore({
        read: () => read(credentials.secretId),
        ttlMs: config.secretTtlMs,
        log,
      });
    }
    case 'env':
      try {
        const { appId, appSecret } = credentials;
        return createStaticSource(singleAppRegistry(appId, appSecret));
      } catch (error) {
        const reason = error instanceof Problem ? error.reason : undefined;
        throw new ConfigError(
          `WECHAT_APP_ID/WECHAT_APP_SECRET are not usable: ${reason ?? 'unknown reason'}.`,
        );
      }
    case 'sandbox':
      throw new ConfigError(
        'The sandbox has no credential source of its own; start it with npm start.',
      );
  }
}

/** Session signing as wired: the keys, and the issuer URL the tokens and discovery name. */
export interface TokenWiring {
  readonly keys: TokenKeys;
  readonly issuer: string;
  readonly ttlSeconds: number;
}

/**
 * The KMS keys a configuration asks for, or undefined when sessions are off. The issuer
 * must be known by now: the stack sets it in the cloud, the local server from its port.
 */
export function kmsTokens(
  config: Config,
  issuer: string | undefined,
  log: Logger,
  awsCredentials: () => Promise<AwsCredentials> = credentialsFromEnv,
): (TokenWiring & { keys: ReturnType<typeof createKmsKeys> }) | undefined {
  const { tokens } = config;
  if (tokens.kind === 'off') return undefined;
  const resolved = tokens.issuer ?? issuer;
  if (resolved === undefined) {
    throw new ConfigError(`${ENV.sessionIssuer} is required with ${ENV.sessionKeyId}.`);
  }
  const call = kmsClient(tokens.kms, awsCredentials);
  return {
    keys: createKmsKeys({
      call,
      signingKeyId: tokens.keyId,
      publishedKeyIds: tokens.publishedKeyIds,
      log,
    }),
    issuer: resolved,
    ttlSeconds: tokens.ttlSeconds,
  };
}

/** A KMS JSON client for a target, with the KMS budgets (functions/commons/budgets.ts). */
function kmsClient(target: AwsTarget, awsCredentials: () => Promise<AwsCredentials>) {
  return createAwsJsonClient({
    label: 'KMS',
    service: 'kms',
    targetPrefix: 'TrentService',
    region: target.region,
    endpoint: target.endpoint,
    credentials: awsCredentials,
    callMs: KMS.callMs,
    totalMs: KMS.totalMs,
    attempts: KMS.attempts,
  });
}

/** What tests may change in the wiring; the function and the local server use the defaults. */
export interface WiringOptions {
  /** The pause before a retry of WeChat's -1 (the property tests shorten it). */
  readonly wechatRetryDelayMs?: number;
  /** The user records, instead of the table the configuration names (the sandbox's memory). */
  readonly users?: UserStore;
  /** Where AWS credentials come from; the standard variables by default. */
  readonly awsCredentials?: () => Promise<AwsCredentials>;
  /** Seals session_keys, instead of the KMS key the configuration names (the sandbox's memory). */
  readonly sealer?: SessionKeySealer;
  /** The sandbox: its open data answers say that the devtools' data needs the real WeChat. */
  readonly sandbox?: boolean;
}

/** The open data sealing key a configuration names, through the AWS JSON client; undefined when off. */
export function kmsSealer(
  config: Config,
  awsCredentials: () => Promise<AwsCredentials> = credentialsFromEnv,
): ReturnType<typeof createKmsSealer> | undefined {
  const { openData } = config;
  if (openData.kind === 'off') return undefined;
  return createKmsSealer(kmsClient(openData.kms, awsCredentials), openData.keyId);
}

/** The users table a configuration names, through the AWS JSON client; undefined when off. */
export function dynamoUsers(
  config: Config,
  awsCredentials: () => Promise<AwsCredentials> = credentialsFromEnv,
): UserStore | undefined {
  const { users } = config;
  if (users.kind === 'off') return undefined;
  const call = createAwsJsonClient({
    label: 'DynamoDB',
    service: 'dynamodb',
    targetPrefix: 'DynamoDB_20120810',
    jsonVersion: '1.0',
    region: users.dynamodb.region,
    endpoint: users.dynamodb.endpoint,
    credentials: awsCredentials,
    callMs: USERS.callMs,
    totalMs: USERS.totalMs,
    attempts: USERS.attempts,
  });
  return createDynamoUsers({ call, table: users.table });
}

/** The handler with its real dependencies; `tokens` undefined means sessions are off. */
export function createApiHandler(
  config: Config,
  log: Logger,
  credentials: CredentialSource,
  service: string,
  tokens?: TokenWiring,
  options: WiringOptions = {},
): ApiHandler {
  const wechat = createWechatClient({
    baseUrl: config.wechatBaseUrl,
    timeoutMs: config.wechatTimeoutMs,
    ...(options.wechatRetryDelayMs !== undefined && { retryDelayMs: options.wechatRetryDelayMs }),
  });
  const issuer =
    tokens &&
    createTokenIssuer({
      keys: tokens.keys,
      issuer: tokens.issuer,
      ttlSeconds: tokens.ttlSeconds,
      newTokenId: () => randomUUID(),
    });
  const users = options.users ?? dynamoUsers(config, options.awsCredentials);
  // Open data keeps session_keys on the user records, and reads them for a token's caller:
  // without users there is nowhere to keep them, and without tokens nobody to read them for.
  const sealer = users && tokens && (options.sealer ?? kmsSealer(config, options.awsCredentials));
  const deps: RouteDeps = {
    login: createLogin({
      credentials,
      wechat,
      ...(issuer && { tokens: issuer }),
      ...(users && { users }),
      ...(sealer && { sealer }),
    }),
    ...(tokens && { tokens: { issuer: tokens.issuer, keys: tokens.keys } }),
    ...(issuer && {
      bindPhone: createBindPhone({
        credentials,
        wechat,
        accessTokens: createAccessTokens(wechat),
        tokens: issuer,
        ...(users && { users }),
        wechatBudgetMs: phoneWechatMs(config.wechatTimeoutMs),
      }),
    }),
    ...(users && { users }),
    ...(users &&
      sealer && {
        readOpenData: createReadOpenData({
          keys: users,
          sealer,
          ...(options.sandbox && { sandbox: true }),
        }),
      }),
  };
  return createHandler({ ...deps, routes: servedRoutes(featuresOf(deps)), log, service });
}
