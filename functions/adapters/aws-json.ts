import { parseJsonObject } from '../commons/json.ts';
import { HttpFailure, send } from './http.ts';
import { signV4 } from './sigv4.ts';

/** AWS credentials as the Lambda runtime (or the caller's shell) provides them. */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface AwsJsonClientOptions {
  /** The service's name in error messages, e.g. `Secrets Manager`. */
  readonly label: string;
  /** The SigV4 signing name, e.g. `secretsmanager` or `kms`. */
  readonly service: string;
  /** The `X-Amz-Target` prefix, e.g. `secretsmanager` or `TrentService`. */
  readonly targetPrefix: string;
  /** The AWS JSON protocol version: 1.1 (Secrets Manager, KMS, the default) or 1.0 (DynamoDB). */
  readonly jsonVersion?: '1.0' | '1.1';
  readonly region: string;
  readonly endpoint: URL;
  readonly credentials: () => Promise<AwsCredentials>;
  /** Timeout of one call. */
  readonly callMs: number;
  /** Upper bound on one operation, retries included, unless the caller gives a deadline. */
  readonly totalMs: number;
  readonly attempts: number;
}

/** A call that failed; `message` names the cause (an AWS error type or a network failure), never a value. */
export class AwsCallError extends Error {
  /** The AWS error type (`ThrottlingException`), or undefined for a network failure. */
  readonly type: string | undefined;
  readonly retryable: boolean;
  constructor(message: string, retryable: boolean, type?: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'AwsCallError';
    this.type = type;
    this.retryable = retryable;
  }
}

/** Calls one operation and returns its parsed JSON answer; `deadline` is a `performance.now()` time. */
export type AwsJsonCall = (
  operation: string,
  payload: Record<string, unknown>,
  deadline?: number,
) => Promise<Record<string, unknown>>;

/**
 * A client for AWS JSON APIs (Secrets Manager, KMS, DynamoDB), signed with the SDK's own SigV4
 * signer. It loads a fraction of an SDK client on a cold start and keeps what matters of
 * one: bounded retries with jittered backoff on throttling, 5xx and network failures (every
 * operation this project calls is safe to repeat), and errors named by their AWS type.
 */
export function createAwsJsonClient(options: AwsJsonClientOptions): AwsJsonCall {
  const { endpoint } = options;
  const contentType = `application/x-amz-json-${options.jsonVersion ?? '1.1'}`;

  async function once(operation: string, body: string, deadline: number) {
    const headers = signV4(
      {
        method: 'POST',
        path: endpoint.pathname,
        headers: {
          host: endpoint.host,
          'content-type': contentType,
          'x-amz-target': `${options.targetPrefix}.${operation}`,
        },
        body,
      },
      { service: options.service, region: options.region },
      await options.credentials(),
    );
    const response = await send({
      method: 'POST',
      url: endpoint,
      headers,
      body,
      timeoutMs: Math.max(1, Math.min(options.callMs, deadline - performance.now())),
    });
    const parsed = parseJsonObject(response.body);
    if (response.status === 200) {
      if (parsed) return parsed;
      // A proxy's error page or a body cut off on the way: the service's answer never arrived.
      throw new AwsCallError(
        `${options.label} answered HTTP 200 with a body that is not its JSON`,
        true,
      );
    }
    const type = errorType(parsed, response.status);
    const retryable =
      response.status >= 500 || response.status === 429 || /Throttl|LimitExceeded/.test(type);
    throw new AwsCallError(
      `${options.label} answered HTTP ${response.status} ${type}`,
      retryable,
      type,
    );
  }

  return async (operation, payload, deadline = performance.now() + options.totalMs) => {
    const body = JSON.stringify(payload);
    for (let attempt = 1; ; attempt++) {
      try {
        return await once(operation, body, deadline);
      } catch (error) {
        const failure = asCallError(error, options.label);
        const delay = 100 * 2 ** (attempt - 1) * (0.5 + Math.random() / 2);
        const left = deadline - performance.now() - delay;
        if (!failure.retryable || attempt >= options.attempts || left < 200) throw failure;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  };
}

/** Credentials from the standard variables, which the Lambda runtime always sets. */
export function credentialsFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<AwsCredentials> {
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey } = env;
  if (!accessKeyId || !secretAccessKey) {
    return Promise.reject(
      new AwsCallError(
        'no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN)',
        false,
      ),
    );
  }
  const sessionToken = env.AWS_SESSION_TOKEN;
  return Promise.resolve(
    sessionToken
      ? { accessKeyId, secretAccessKey, sessionToken }
      : { accessKeyId, secretAccessKey },
  );
}

function asCallError(error: unknown, label: string): AwsCallError {
  if (error instanceof AwsCallError) return error;
  if (error instanceof HttpFailure) {
    return new AwsCallError(
      `${label} could not be reached: ${error.message}`,
      true,
      undefined,
      error,
    );
  }
  const what = (error as { code?: unknown; name?: unknown } | null)?.code ?? (error as Error)?.name;
  return new AwsCallError(
    `calling ${label} failed unexpectedly (${String(what)})`,
    false,
    undefined,
    error,
  );
}

function errorType(body: Record<string, unknown> | undefined, status: number): string {
  const raw = body?.__type ?? body?.code ?? `HTTP${status}`;
  // "com.amazonaws...#ResourceNotFoundException" → "ResourceNotFoundException"
  return String(raw).split('#').pop() ?? String(raw);
}
