import { SECRETS_MANAGER } from '../commons/budgets.ts';
import { misconfigured } from '../domain/errors.ts';
import { type AwsCredentials, createAwsJsonClient } from './aws-json.ts';

export { type AwsCredentials, credentialsFromEnv } from './aws-json.ts';

export interface SecretsManagerOptions {
  readonly region: string;
  readonly endpoint: URL;
  readonly credentials: () => Promise<AwsCredentials>;
  /** Timeout of one call. */
  readonly timeoutMs?: number;
  /** Upper bound on one read, retries included. */
  readonly budgetMs?: number;
  readonly maxAttempts?: number;
}

/** Reads a secret's string value. */
export type SecretReader = (secretId: string) => Promise<string>;

/**
 * The one Secrets Manager call this function makes, `GetSecretValue`: a read, so every
 * throttle, 5xx or network failure is retried within the budget.
 */
export function createSecretsManagerReader(options: SecretsManagerOptions): SecretReader {
  const call = createAwsJsonClient({
    label: 'Secrets Manager',
    service: 'secretsmanager',
    targetPrefix: 'secretsmanager',
    region: options.region,
    endpoint: options.endpoint,
    credentials: options.credentials,
    callMs: options.timeoutMs ?? SECRETS_MANAGER.callMs,
    totalMs: options.budgetMs ?? SECRETS_MANAGER.totalMs,
    attempts: options.maxAttempts ?? SECRETS_MANAGER.attempts,
  });
  return async (secretId) => {
    const { SecretString: value } = await call('GetSecretValue', { SecretId: secretId });
    if (typeof value !== 'string') {
      throw misconfigured('the secret has no SecretString (is it a binary secret?)');
    }
    return value;
  };
}
