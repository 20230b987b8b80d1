/**
 * The Lambda entry point (API Gateway HTTP API, payload format 2.0). Everything is built
 * once per execution environment, at module scope, so warm invocations only do the request.
 */
import { createLogger } from './adapters/log.ts';
import { ConfigError, loadConfig } from './config.ts';
import { createApiHandler, credentialSource, kmsSealer, kmsTokens } from './wiring.ts';

const config = loadConfig(process.env);
if (config.credentials.kind !== 'secret') {
  throw new ConfigError(
    'WECHAT_SECRET_ID is required: the function reads the AppID/AppSecret from Secrets Manager.',
  );
}
const log = createLogger();
const credentials = credentialSource(config, log);
const tokens = kmsTokens(config, undefined, log);
const sealer = kmsSealer(config);
// Start the first secret, public key and data key reads now, while the runtime finishes
// initialising; the first request joins them. A failure here is answered (and logged) by
// that request.
credentials.get().catch(() => {});
tokens?.keys.warm();
sealer?.warm();

export const handler = createApiHandler(
  config,
  log,
  credentials,
  process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'weapp-openid',
  tokens,
  sealer ? { sealer } : {},
);
