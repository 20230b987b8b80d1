/**
 * `npm run doctor -- --url <EndpointUrl> [--appid wx…] [--allow-sandbox] [--timeout 35]`
 *
 * Sends a well-formed but made-up login code. A healthy deployment forwards it to WeChat with
 * the real AppID/AppSecret, and WeChat answers 40029 (invalid code): that one answer proves the
 * endpoint, the secret, the permissions and the credentials are all wired. Every other answer
 * gets one plain sentence saying what to fix. Exit 0 healthy, 1 not healthy, 2 usage error.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { ProblemCode } from '../functions/domain/errors.ts';
import type { RouteProblemCode } from '../functions/handler/catalogue.ts';

/** What the endpoint answered. */
export interface Answer {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
  /** API Gateway's `apigw-requestid` header, when present. */
  readonly requestId?: string;
}

/** The endpoint answered, or the request failed before any answer. */
export type Outcome = { readonly answer: Answer } | { readonly networkError: unknown };

export interface Diagnosis {
  readonly healthy: boolean;
  readonly message: string;
}

export interface DiagnoseOptions {
  /** Accept the local sandbox, which answers 200 for any well-formed code. */
  readonly allowSandbox?: boolean;
}

const FIX_SECRET =
  'write {"appId":"wx…","appSecret":"…"} with `aws secretsmanager put-secret-value --secret-id <SecretArn> --secret-string file://secret.json` (docs/operators.md)';

/** Turns what the endpoint did into a verdict and one sentence for the operator. */
export function diagnose(outcome: Outcome, options: DiagnoseOptions = {}): Diagnosis {
  if ('networkError' in outcome) return unhealthy(networkMessage(outcome.networkError));
  const { answer } = outcome;
  const body = parseJson(answer.body);
  const requestId = typeof body?.requestId === 'string' ? body.requestId : answer.requestId;
  const ref = requestId ? ` (requestId ${requestId}: search the function log group for it)` : '';

  if (answer.status === 200 && typeof body?.openid === 'string') {
    return options.allowSandbox
      ? healthy(
          'Reachable, and this is the sandbox: WeChat is simulated, so the credentials were not checked.',
        )
      : unhealthy(
          'The endpoint accepted a made-up code, which real WeChat never does: this is the local sandbox (WeChat is simulated) or WECHAT_API_BASE_URL points at a fake. Pass --allow-sandbox if that is what you meant.',
        );
  }
  if (answer.contentType.includes('application/problem+json') && typeof body?.code === 'string') {
    return problemDiagnosis(body.code, typeof body.detail === 'string' ? body.detail : '', ref);
  }
  if (body && typeof body.message === 'string')
    return gatewayDiagnosis(answer.status, body.message);
  return unhealthy(
    `The answer (HTTP ${answer.status}, ${answer.contentType || 'no content type'}) is not from weapp-openid: the URL points at something else. Use the stack's EndpointUrl output.`,
  );
}

const HEALTHY_REJECTION = (code: string): Diagnosis =>
  healthy(
    `Healthy: WeChat accepted the AppID and AppSecret and rejected the made-up code (${code}), so the endpoint, the secret and the credentials are wired.`,
  );
const NO_WECHAT = (code: string, ref: string): Diagnosis =>
  unhealthy(
    `The function gets no usable answer from WeChat (${code}): check that it can reach api.weixin.qq.com (or WECHAT_API_BASE_URL), then retry.${ref}`,
  );
const WRONG_PATH = (): Diagnosis => unhealthy('Wrong path: the URL must end with /openid.');

/**
 * A verdict for every problem code the endpoint can answer, so a new code cannot be
 * forgotten here: the table must name it.
 */
const VERDICTS = {
  invalid_code: () => HEALTHY_REJECTION('invalid_code'),
  code_used: () => HEALTHY_REJECTION('code_used'),
  misconfigured: (_detail, ref) =>
    unhealthy(
      `WeChat rejected the AppID/AppSecret, the secret is malformed, or the session signing key is unusable: ${FIX_SECRET}; for the key, see the function log line's reason.${ref}`,
    ),
  secret_unavailable: (_detail, ref) =>
    unhealthy(
      `The function cannot read its secret: check that it exists, that WECHAT_SECRET_ID names it, and that a customer-managed KMS key (if any) lets the function's role decrypt.${ref}`,
    ),
  session_unavailable: (_detail, ref) =>
    unhealthy(
      `WeChat accepted the credentials, but the function could not sign a session token with KMS (throttled or unreachable): retry; if it persists, check the key and the account's KMS request quota.${ref}`,
    ),
  appid_mismatch: (detail, ref) =>
    unhealthy(
      `The backend serves other AppIDs: ${detail} Pass --appid with a configured one, or fix the secret.${ref}`,
    ),
  upstream_timeout: (_detail, ref) => NO_WECHAT('upstream_timeout', ref),
  upstream_error: (_detail, ref) => NO_WECHAT('upstream_error', ref),
  upstream_busy: (_detail, ref) => NO_WECHAT('upstream_busy', ref),
  // WeChat's verdicts on a made-up code that it could not have given: not a healthy answer.
  user_blocked: (detail, ref) => unhealthy(`The endpoint answered user_blocked: ${detail}${ref}`),
  rate_limited: (detail, ref) => unhealthy(`The endpoint answered rate_limited: ${detail}${ref}`),
  invalid_request: (detail, ref) =>
    unhealthy(`The endpoint refused the doctor's request (invalid_request): ${detail}${ref}`),
  payload_too_large: (detail, ref) =>
    unhealthy(`The endpoint answered payload_too_large: ${detail}${ref}`),
  internal_error: (detail, ref) =>
    unhealthy(`The endpoint answered internal_error: ${detail}${ref}`),
  unauthorized: (detail, ref) =>
    unhealthy(`The login route asked for a session token (unauthorized): ${detail}${ref}`),
  not_found: WRONG_PATH,
  method_not_allowed: WRONG_PATH,
} satisfies Record<ProblemCode | RouteProblemCode, (detail: string, ref: string) => Diagnosis>;

function problemDiagnosis(code: string, detail: string, ref: string): Diagnosis {
  const verdict = Object.hasOwn(VERDICTS, code)
    ? VERDICTS[code as keyof typeof VERDICTS]
    : undefined;
  return verdict
    ? verdict(detail, ref)
    : unhealthy(`The endpoint answered ${code}: ${detail}${ref}`);
}

/** API Gateway's own answers are `{"message": "..."}`, never problem+json. */
function gatewayDiagnosis(status: number, message: string): Diagnosis {
  if (status === 404) {
    return unhealthy(
      `API Gateway has no such route ("${message}"): the URL must be the EndpointUrl output, ending in /openid.`,
    );
  }
  if (status === 429)
    return unhealthy('API Gateway throttled the request: wait, or raise throttleRateLimit.');
  if (status === 403) {
    return unhealthy(
      `API Gateway refused the request ("${message}"): check the URL; in the China regions, the account needs an ICP recordal for public APIs.`,
    );
  }
  if (status >= 500) {
    return unhealthy(
      `API Gateway could not run the function ("${message}"): it crashed, timed out or may not be invoked. See the function log group and the access log's integrationError.`,
    );
  }
  return unhealthy(
    `API Gateway answered HTTP ${status} "${message}": this is not an answer from weapp-openid.`,
  );
}

function networkMessage(error: unknown): string {
  const { code, name, message } = rootCause(error);
  if (name === 'TimeoutError' || code === 'ETIMEDOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') {
    return 'No answer in time: the host is unreachable from here (firewall, proxy, wrong host) or hangs.';
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return 'The host name does not resolve: check the URL, or for a custom domain the CNAME to the CustomDomainTarget output.';
  }
  if (code === 'ECONNREFUSED') {
    return 'Connection refused: nothing listens at that address. Locally, start the server with `npm start`; otherwise check the URL.';
  }
  if (code === 'ECONNRESET')
    return 'The connection was reset: a proxy or firewall may be in the way.';
  if (code && /CERT|TLS|SSL|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)/.test(code)) {
    return `TLS failed (${code}): the certificate is not trusted or not for this host. For a custom domain, the ACM certificate must cover it; WeChat will refuse it too.`;
  }
  return `Could not reach the endpoint: ${code ?? name ?? 'error'} ${message ?? ''}`.trim();
}

/** fetch wraps the socket error in `cause`; the innermost one names what happened. */
function rootCause(error: unknown): { code?: string; name?: string; message?: string } {
  let current: unknown = error;
  let found: { code?: string; name?: string; message?: string } = {};
  for (let depth = 0; current instanceof Error && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    found = {
      code: typeof code === 'string' ? code : found.code,
      name: current.name,
      message: current.message,
    };
    current = current.cause;
  }
  return found;
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

const healthy = (message: string): Diagnosis => ({ healthy: true, message });
const unhealthy = (message: string): Diagnosis => ({ healthy: false, message });

/** Posts the made-up code the way the mini program would, minus the Referer. */
export async function probe(
  url: URL,
  appid: string | undefined,
  timeoutMs: number,
): Promise<Outcome> {
  // Random so that the sandbox, which remembers used codes, never answers code_used.
  const code = `doctor-${randomBytes(8).toString('hex')}`;
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(appid ? { code, appid } : { code }),
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    return {
      answer: {
        status: response.status,
        contentType: response.headers.get('content-type') ?? '',
        body: await response.text(),
        requestId: response.headers.get('apigw-requestid') ?? undefined,
      },
    };
  } catch (error) {
    return { networkError: error };
  }
}

/** The CLI: parses the arguments, probes, prints one sentence, returns the exit code. */
export async function main(args: string[]): Promise<number> {
  let values: { url?: string; appid?: string; 'allow-sandbox'?: boolean; timeout?: string };
  try {
    ({ values } = parseArgs({
      args,
      options: {
        url: { type: 'string' },
        appid: { type: 'string' },
        'allow-sandbox': { type: 'boolean' },
        // 35 s: longer than API Gateway's 30 s, so its own timeout answer is seen.
        timeout: { type: 'string', default: '35' },
      },
    }));
  } catch (error) {
    return usage((error as Error).message);
  }
  const url = URL.canParse(values.url ?? '') ? new URL(values.url as string) : undefined;
  if (!url || !/^https?:$/.test(url.protocol))
    return usage('--url must be the http(s) EndpointUrl.');
  if (values.appid !== undefined && !/^wx[0-9a-f]{16}$/.test(values.appid)) {
    return usage('--appid must look like wx followed by 16 hex digits.');
  }
  const timeoutSeconds = Number(values.timeout);
  if (!(timeoutSeconds > 0)) return usage('--timeout must be a positive number of seconds.');

  const outcome = await probe(url, values.appid, timeoutSeconds * 1000);
  const { healthy: ok, message } = diagnose(outcome, { allowSandbox: values['allow-sandbox'] });
  (ok ? process.stdout : process.stderr).write(`${message}\n`);
  return ok ? 0 : 1;
}

function usage(problem: string): number {
  process.stderr.write(
    `${problem}\nUsage: npm run doctor -- --url https://…/openid [--appid wx…] [--allow-sandbox] [--timeout seconds]\n`,
  );
  return 2;
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
