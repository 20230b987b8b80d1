import { createSecretStore, createStaticSource } from './adapters/secret-store.ts';
import {
  type AwsCredentials,
  createSecretsManagerReader,
  credentialsFromEnv,
} from './adapters/secrets-manager.ts';
import { createWechatClient } from './adapters/wechat-client.ts';
import { type Config, ConfigError } from './config.ts';
import { parseSecretValue } from './domain/apps.ts';
import { LoginError } from './domain/errors.ts';
import { createLogin } from './domain/login.ts';
import type { CredentialSource, Logger } from './domain/ports.ts';
import { type ApiHandler, createHandler } from './handler/http-handler.ts';

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

/** The handler with its real dependencies. */
export function createApiHandler(
  config: Config,
  log: Logger,
  credentials: CredentialSource,
  service: string,
): ApiHandler {
  const wechat = createWechatClient({
    baseUrl: config.wechatBaseUrl,
    timeoutMs: config.wechatTimeoutMs,
  });
  return createHandler({ login: createLogin({ credentials, wechat }), log, service });
}
