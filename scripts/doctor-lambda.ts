/**
 * Lambda's `Invoke` for `npm run doctor -- --function`: one SigV4-signed REST call,
 * `POST /2015-03-31/functions/{name}/invocations`, signed as functions/adapters/aws-json.ts
 * signs its calls (the SDK's signer over Node's crypto), with the credentials from the
 * standard variables. The doctor needs only this one call, so it takes no Lambda client.
 */
import { SignatureV4 } from '@smithy/signature-v4';
import { type AwsCredentials, credentialsFromEnv } from '../functions/adapters/aws-json.ts';
import { parseJsonObject } from '../functions/commons/json.ts';
import { awsEndpoint, ConfigError } from '../functions/config.ts';
import { Sha256 } from '../harness/sha256.ts';
import { networkMessage, type Outcome, send } from './doctor-http.ts';

/** Where and as whom the doctor invokes the function. */
export interface LambdaTarget {
  readonly region: string;
  /** `AWS_ENDPOINT_URL_LAMBDA`, else `AWS_ENDPOINT_URL`, else the regional endpoint. */
  readonly endpoint: URL;
  readonly credentials: AwsCredentials;
}

/** The target from the standard AWS variables, or what is missing, in one sentence. */
export async function lambdaTarget(
  env: NodeJS.ProcessEnv,
): Promise<LambdaTarget | { readonly problem: string }> {
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION;
  if (!region) {
    return { problem: "--function needs AWS_REGION: the region of the stack's function." };
  }
  let endpoint: URL;
  try {
    endpoint = awsEndpoint('lambda', region, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return { problem: error.message };
  }
  try {
    return { region, endpoint, credentials: await credentialsFromEnv(env) };
  } catch {
    return {
      problem:
        '--function needs AWS credentials that may invoke the function: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones).',
    };
  }
}

/** What an invocation gave: the function's result, or why there is none, in one sentence. */
export type Invocation =
  | { readonly result: FunctionResult }
  | { readonly failure: string; readonly networkError?: true };

/** The function's answer to an API Gateway event (payload 2.0's structured result). */
export interface FunctionResult {
  readonly statusCode: number;
  readonly body: Record<string, unknown> | undefined;
}

/** Invokes the function with one event and waits for its answer (`RequestResponse`). */
export async function invoke(
  target: LambdaTarget,
  functionName: string,
  event: unknown,
  timeoutMs: number,
): Promise<Invocation> {
  const outcome = await signedPost(
    target,
    `/2015-03-31/functions/${encodeURIComponent(functionName)}/invocations`,
    JSON.stringify(event),
    timeoutMs,
  );
  if ('networkError' in outcome) {
    return {
      failure: `Invoking the function through ${target.endpoint.origin} failed: ${networkMessage(outcome.networkError)}`,
      networkError: true,
    };
  }
  const { answer } = outcome;
  const payload = parseJsonObject(answer.body);
  if (answer.status !== 200) {
    return {
      failure: lambdaRefusal(answer.status, errorType(answer, payload), functionName, target),
    };
  }
  const functionError = answer.headers?.['x-amz-function-error'];
  if (functionError !== undefined) {
    // Only the error type: the runtime's message may quote anything the function held.
    const type = typeof payload?.errorType === 'string' ? payload.errorType : functionError;
    return {
      failure: `The function failed on the doctor's event (${type}) instead of answering it: its log group says why (a crash, a timeout, or a configuration error at start-up).`,
    };
  }
  if (typeof payload?.statusCode !== 'number') {
    return {
      failure: `${functionName} answered the invocation with something that is not an API Gateway result: --function must name the stack's function (its FunctionName output).`,
    };
  }
  const body = typeof payload.body === 'string' ? parseJsonObject(payload.body) : undefined;
  return { result: { statusCode: payload.statusCode, body } };
}

/** One SigV4-signed POST to the Lambda API, never retried: an invocation costs. */
async function signedPost(
  target: LambdaTarget,
  path: string,
  body: string,
  timeoutMs: number,
): Promise<Outcome> {
  const { endpoint } = target;
  const signer = new SignatureV4({
    service: 'lambda',
    region: target.region,
    credentials: target.credentials,
    sha256: Sha256,
  });
  // The endpoint's own path, if any, prefixes the API's (an emulator behind a path).
  const fullPath = `${endpoint.pathname.replace(/\/+$/, '')}${path}`;
  const signed = await signer.sign({
    method: 'POST',
    protocol: endpoint.protocol,
    hostname: endpoint.hostname,
    port: endpoint.port ? Number(endpoint.port) : undefined,
    path: fullPath,
    query: {},
    headers: {
      host: endpoint.host,
      'content-type': 'application/json',
      'x-amz-invocation-type': 'RequestResponse',
    },
    body,
  });
  const url = new URL(endpoint);
  url.pathname = fullPath;
  // fetch sets the host itself, and refuses to be given one.
  const { host: _host, ...headers } = signed.headers;
  return send(url, { method: 'POST', headers, body }, timeoutMs);
}

/** Lambda's error type: its header (`Type:http://…`), else the body's. */
function errorType(
  answer: { readonly headers?: Readonly<Record<string, string>> },
  payload: Record<string, unknown> | undefined,
): string {
  const raw = answer.headers?.['x-amzn-errortype'] ?? payload?.__type ?? payload?.Type;
  return typeof raw === 'string' ? (raw.split(':')[0]?.split('#').pop() ?? raw) : 'no error type';
}

/** Lambda refused the call itself: the function never ran. */
function lambdaRefusal(
  status: number,
  type: string,
  functionName: string,
  target: LambdaTarget,
): string {
  if (type === 'ResourceNotFoundException') {
    return `Lambda has no function ${functionName} in ${target.region}: pass the stack's FunctionName output as --function, with AWS_REGION set to the stack's region.`;
  }
  if (type === 'AccessDeniedException' || type === 'AccessDenied') {
    return `The AWS credentials may not invoke ${functionName}: they need lambda:InvokeFunction on it.`;
  }
  if (
    [
      'UnrecognizedClientException',
      'InvalidSignatureException',
      'ExpiredTokenException',
      'InvalidClientTokenId',
      'SignatureDoesNotMatch',
    ].includes(type)
  ) {
    return `AWS refused the credentials (${type}): check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN; temporary ones may have expired.`;
  }
  if (status === 429) {
    return `Lambda throttled the invocation (${type}): the account's or the function's concurrency is used up; retry later.`;
  }
  return `Lambda answered HTTP ${status} (${type}) to the invocation of ${functionName}, so the function did not run.`;
}
