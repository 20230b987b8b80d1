import { SignatureV4 } from '@smithy/signature-v4';
import { LoginError, misconfigured } from '../domain/errors.ts';
import { SECRETS_MANAGER } from '../shared/budgets.ts';
import { HttpFailure, send } from './http.ts';
import { Sha256 } from './sha256.ts';

/** AWS credentials as the Lambda runtime (or the caller's shell) provides them. */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

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

/** A read that failed; `message` names the cause (an AWS error type or a network failure), never a value. */
export class SecretReadError extends Error {
  readonly retryable: boolean;
  constructor(message: string, retryable: boolean, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'SecretReadError';
    this.retryable = retryable;
  }
}

/** Reads a secret's string value. */
export type SecretReader = (secretId: string) => Promise<string>;

/**
 * A client for the one Secrets Manager call this function makes, `GetSecretValue`, signed
 * with the SDK's own SigV4 signer. It loads a fraction of the full SDK client on a cold start
 * and keeps what matters of it: the standard endpoint variables, bounded retries with
 * backoff on throttling, 5xx and network failures (the call is a read, so retrying is safe),
 * and errors named by their AWS type.
 */
export function createSecretsManagerReader(options: SecretsManagerOptions): SecretReader {
  const signer = new SignatureV4({
    service: 'secretsmanager',
    region: options.region,
    credentials: options.credentials,
    sha256: Sha256,
  });
  const timeoutMs = options.timeoutMs ?? SECRETS_MANAGER.callMs;
  const budgetMs = options.budgetMs ?? SECRETS_MANAGER.totalMs;
  const maxAttempts = options.maxAttempts ?? SECRETS_MANAGER.attempts;
  const { endpoint } = options;

  return async (secretId) => {
    const deadline = performance.now() + budgetMs;
    const body = JSON.stringify({ SecretId: secretId });
    for (let attempt = 1; ; attempt++) {
      try {
        return await getSecretValue(body);
      } catch (error) {
        const failure = asReadError(error);
        const delay = 100 * 2 ** (attempt - 1) * (0.5 + Math.random() / 2);
        const left = deadline - performance.now() - delay;
        // A LoginError (an unusable value) is final; a read error says whether it is.
        const retryable = failure instanceof SecretReadError && failure.retryable;
        if (!retryable || attempt >= maxAttempts || left < 200) throw failure;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }

    async function getSecretValue(payload: string): Promise<string> {
      const signed = await signer.sign({
        method: 'POST',
        protocol: endpoint.protocol,
        hostname: endpoint.hostname,
        port: endpoint.port ? Number(endpoint.port) : undefined,
        path: endpoint.pathname,
        query: {},
        headers: {
          host: endpoint.host,
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': 'secretsmanager.GetSecretValue',
        },
        body: payload,
      });
      const response = await send({
        method: 'POST',
        url: endpoint,
        headers: signed.headers,
        body: payload,
        timeoutMs: Math.max(1, Math.min(timeoutMs, deadline - performance.now())),
      });
      const parsed = parseJson(response.body);
      if (response.status === 200) {
        const value = parsed?.SecretString;
        if (typeof value !== 'string') {
          throw misconfigured('the secret has no SecretString (is it a binary secret?)');
        }
        return value;
      }
      const type = errorType(parsed, response.status);
      const retryable =
        response.status >= 500 || response.status === 429 || /Throttl|LimitExceeded/.test(type);
      throw new SecretReadError(
        `Secrets Manager answered HTTP ${response.status} ${type}`,
        retryable,
      );
    }
  };
}

/** Credentials from the standard variables, which the Lambda runtime always sets. */
export async function credentialsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): Promise<AwsCredentials> {
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey } = env;
  if (!accessKeyId || !secretAccessKey) {
    throw new SecretReadError(
      'no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN)',
      false,
    );
  }
  const sessionToken = env.AWS_SESSION_TOKEN;
  return sessionToken
    ? { accessKeyId, secretAccessKey, sessionToken }
    : { accessKeyId, secretAccessKey };
}

function asReadError(error: unknown): SecretReadError | LoginError {
  if (error instanceof SecretReadError || error instanceof LoginError) return error;
  if (error instanceof HttpFailure) {
    return new SecretReadError(
      `Secrets Manager could not be reached: ${error.message}`,
      true,
      error,
    );
  }
  const what = (error as { code?: unknown; name?: unknown } | null)?.code ?? (error as Error)?.name;
  return new SecretReadError(
    `reading the secret failed unexpectedly (${String(what)})`,
    false,
    error,
  );
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function errorType(body: Record<string, unknown> | undefined, status: number): string {
  const raw = body?.__type ?? body?.code ?? `HTTP${status}`;
  // "com.amazonaws...#ResourceNotFoundException" → "ResourceNotFoundException"
  return String(raw).split('#').pop() ?? String(raw);
}
