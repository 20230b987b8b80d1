/**
 * The Lambda entry point (API Gateway HTTP API, payload format 2.0). Everything is built
 * once per execution environment, at module scope, so warm invocations only do the request.
 */
import { createLogger } from './adapters/log.ts';
import { ConfigError, loadConfig } from './config.ts';
import { createApiHandler, credentialSource, kmsTokens } from './wiring.ts';

const config = loadConfig(process.env);
if (config.credentials.kind !== 'secret') {
  throw new ConfigError(
    'WECHAT_SECRET_ID is required: the function reads the AppID/AppSecret from Secrets Manager.',
  );
}
const log = createLogger();
const credentials = credentialSource(config, log);
const sessions = kmsTokens(config, undefined, log);
// Start the first secret and public key reads now, while the runtime finishes initialising;
// the first request joins them. A failure here is answered (and logged) by that request.
credentials.get().catch(() => {});
sessions?.keys.warm();

export const handler = createApiHandler(
  config,
  log,
  credentials,
  process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'weapp-openid',
  sessions,
);
