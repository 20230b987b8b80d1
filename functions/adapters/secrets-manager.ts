import { SECRETS_MANAGER } from '../commons/budgets.ts';
import { misconfigured } from '../domain/problem.ts';
import { AwsCallError, type AwsCredentials, createAwsJsonClient } from './aws-json.ts';

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
    const answer = await call('GetSecretValue', { SecretId: secretId });
    if (typeof answer.SecretString === 'string') return answer.SecretString;
    if (answer.SecretBinary !== undefined) {
      throw misconfigured('the secret is binary: store its value as SecretString');
    }
    // Not an answer GetSecretValue gives: the read failed, whatever sent it.
    throw new AwsCallError(
      'Secrets Manager answered HTTP 200 with neither SecretString nor SecretBinary',
      false,
    );
  };
}
