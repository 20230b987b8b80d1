import {
  type AwsCredentials,
  createAwsJsonClient,
  credentialsFromEnv,
} from './adapters/aws-json.ts';
import { createKmsKeys } from './adapters/kms-keys.ts';
import { createSecretStore, createStaticSource } from './adapters/secret-store.ts';
import { createSecretsManagerReader } from './adapters/secrets-manager.ts';
import { createWechatClient } from './adapters/wechat-client.ts';
import { KMS } from './commons/budgets.ts';
import { ENV } from './commons/names.ts';
import { type Config, ConfigError } from './config.ts';
import { parseSecretValue } from './domain/apps.ts';
import { LoginError } from './domain/errors.ts';
import { createLogin } from './domain/login.ts';
import type { CredentialSource, Logger } from './domain/ports.ts';
import { createSessionIssuer, type SessionKeys } from './domain/session.ts';
import { type ApiHandler, createHandler } from './handler/http-handler.ts';

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
        return createStaticSource(parseSecretValue(JSON.stringify({ appId, appSecret })));
      } catch (error) {
        const reason = error instanceof LoginError ? error.reason : undefined;
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
export interface SessionWiring {
  readonly keys: SessionKeys;
  readonly issuer: string;
  readonly ttlSeconds: number;
}

/**
 * The KMS keys a configuration asks for, or undefined when sessions are off. The issuer
 * must be known by now: the stack sets it in the cloud, the local server from its port.
 */
export function kmsSessions(
  config: Config,
  issuer: string | undefined,
  log: Logger,
  awsCredentials: () => Promise<AwsCredentials> = credentialsFromEnv,
): (SessionWiring & { keys: ReturnType<typeof createKmsKeys> }) | undefined {
  const { sessions } = config;
  if (sessions.kind === 'off') return undefined;
  const resolved = sessions.issuer ?? issuer;
  if (resolved === undefined) {
    throw new ConfigError(`${ENV.sessionIssuer} is required with ${ENV.sessionKeyId}.`);
  }
  const call = createAwsJsonClient({
    label: 'KMS',
    service: 'kms',
    targetPrefix: 'TrentService',
    region: sessions.kms.region,
    endpoint: sessions.kms.endpoint,
    credentials: awsCredentials,
    callMs: KMS.callMs,
    totalMs: KMS.totalMs,
    attempts: KMS.attempts,
  });
  return {
    keys: createKmsKeys({
      call,
      signingKeyId: sessions.keyId,
      publishedKeyIds: sessions.publishedKeyIds,
      log,
    }),
    issuer: resolved,
    ttlSeconds: sessions.ttlSeconds,
  };
}

/** The handler with its real dependencies; `sessions` undefined means sessions are off. */
export function createApiHandler(
  config: Config,
  log: Logger,
  credentials: CredentialSource,
  service: string,
  sessions?: SessionWiring,
): ApiHandler {
  const wechat = createWechatClient({
    baseUrl: config.wechatBaseUrl,
    timeoutMs: config.wechatTimeoutMs,
  });
  const issueSession =
    sessions &&
    createSessionIssuer({
      keys: sessions.keys,
      issuer: sessions.issuer,
      ttlSeconds: sessions.ttlSeconds,
      newTokenId: () => randomUUID(),
    });
  return createHandler({
    login: createLogin(
      issueSession ? { credentials, wechat, issueSession } : { credentials, wechat },
    ),
    ...(sessions && { sessions: { issuer: sessions.issuer, keys: sessions.keys } }),
    log,
    service,
  });
}
