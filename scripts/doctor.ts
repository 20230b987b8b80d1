/**
 * `npm run doctor -- --url <EndpointUrl or BaseUrl> [options]`; `--help` lists the options.
 *
 * Sends a well-formed but made-up login code. A healthy deployment forwards it to WeChat with
 * the real AppID/AppSecret, and WeChat answers 40029 (invalid code): that one answer proves the
 * endpoint, the secret, the permissions and the credentials are all wired. Then it checks the
 * session documents API Gateway's JWT authorizer reads (doctor-sessions.ts), and with
 * `--function` what only the function can prove: its WeChat access tokens and its users table
 * (doctor-function.ts). Every verdict is one plain sentence. Exit 0 healthy, 1 not healthy,
 * 2 usage error.
 */
import { randomBytes } from 'node:crypto';
import { type ParseArgsOptionsConfig, parseArgs } from 'node:util';
import { parseJsonObject } from '../functions/commons/json.ts';
import { ISSUED_APP_ID } from '../functions/domain/apps.ts';
import type { ProblemCode } from '../functions/domain/problem.ts';
import type { RouteProblemCode } from '../functions/handler/catalogue.ts';
import { checkFunction } from './doctor-function.ts';
import {
  type Diagnosis,
  healthy,
  networkMessage,
  type Outcome,
  send,
  unhealthy,
} from './doctor-http.ts';
import { type LambdaTarget, lambdaTarget } from './doctor-lambda.ts';
import { checkSessions } from './doctor-sessions.ts';
import { endpointUrls, isIssuer, maskUserinfo, withoutUserinfo } from './doctor-urls.ts';

export type { Answer, Diagnosis, Outcome } from './doctor-http.ts';

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
  const body = parseJsonObject(answer.body);
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
const WRONG_PATH = (): Diagnosis =>
  unhealthy(
    "Wrong path: nothing serves the login there; pass the stack's EndpointUrl output (ending in /openid) or the API's base URL.",
  );

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
  // Answers of the phone and user routes, never of a login.
  invalid_phone_code: (detail, ref) =>
    unhealthy(`The login route answered invalid_phone_code: ${detail}${ref}`),
  store_unavailable: (detail, ref) =>
    unhealthy(`The login route answered store_unavailable: ${detail}${ref}`),
  session_key_stale: (detail, ref) =>
    unhealthy(`The login route answered session_key_stale: ${detail}${ref}`),
  open_data_mismatch: (detail, ref) =>
    unhealthy(`The login route answered open_data_mismatch: ${detail}${ref}`),
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
      `API Gateway has no such route ("${message}"): pass the stack's EndpointUrl output (ending in /openid) or the API's base URL.`,
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

/** Posts the made-up code the way the mini program would, minus the Referer. */
export function probe(url: URL, appid: string | undefined, timeoutMs: number): Promise<Outcome> {
  // Random so that the sandbox, which remembers used codes, never answers code_used.
  const code = `doctor-${randomBytes(8).toString('hex')}`;
  return send(
    url,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(appid ? { code, appid } : { code }),
    },
    timeoutMs,
  );
}

/** The login's session token, when it answered one (the sandbox, or sessions with a real login). */
export function loginToken(outcome: Outcome): string | undefined {
  if (!('answer' in outcome) || outcome.answer.status !== 200) return undefined;
  const token = parseJsonObject(outcome.answer.body)?.token;
  return typeof token === 'string' ? token : undefined;
}

/**
 * Whether the login was answered by weapp-openid at the right path: only then are the session
 * routes worth checking; otherwise they would repeat the login's verdict.
 */
function answeredByService(outcome: Outcome): boolean {
  if (!('answer' in outcome)) return false;
  const body = parseJsonObject(outcome.answer.body);
  if (outcome.answer.status === 200) return typeof body?.openid === 'string';
  const code = outcome.answer.contentType.includes('application/problem+json')
    ? body?.code
    : undefined;
  return typeof code === 'string' && code !== 'not_found' && code !== 'method_not_allowed';
}

interface Options {
  /** Where the login is: `{base}/openid`. */
  readonly url: URL;
  /** The API's base URL, without a trailing slash. */
  readonly base: string;
  /** The AppIDs to check, in the order given; none for a single-app secret. */
  readonly appids: readonly string[];
  /** `--function`: the function to invoke, and where and as whom. */
  readonly function: { readonly name: string; readonly target: LambdaTarget } | undefined;
  readonly issuer: string | undefined;
  readonly me: boolean;
  readonly allowSandbox: boolean;
  readonly timeoutMs: number;
  /** Said before the checks, on stderr; they change no verdict. */
  readonly warnings: readonly string[];
}

/** The CLI: parses the arguments, runs every check, prints one sentence each, returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const parsed = await parseOptions(args);
  if ('help' in parsed) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if ('problem' in parsed) return usage(parsed.problem);
  const options = parsed;
  for (const warning of options.warnings) say(process.stderr, warning);

  // One login per AppID, each its own sentence, named when there are several.
  const apps = options.appids.length > 0 ? options.appids : [undefined];
  const outcomes = await Promise.all(
    apps.map((appid) => probe(options.url, appid, options.timeoutMs)),
  );
  const verdicts = outcomes.map((outcome, index) => {
    const verdict = diagnose(outcome, { allowSandbox: options.allowSandbox });
    return apps.length > 1
      ? { ...verdict, message: `AppID ${apps[index]}: ${verdict.message}` }
      : verdict;
  });
  // The session routes are the same for every AppID: checked once, with the first answer.
  const answered = outcomes.find(answeredByService);
  if (answered) {
    verdicts.push(
      ...(await checkSessions({
        base: options.base,
        issuer: options.issuer ?? options.base,
        token: loginToken(answered),
        me: options.me,
        timeoutMs: options.timeoutMs,
      })),
    );
  }
  if (options.function) {
    verdicts.push(
      ...(await checkFunction({
        target: options.function.target,
        functionName: options.function.name,
        appids: options.appids,
        allowSandbox: options.allowSandbox,
        timeoutMs: options.timeoutMs,
      })),
    );
  }
  for (const { healthy: ok, message } of verdicts) {
    say(ok ? process.stdout : process.stderr, message);
  }
  return verdicts.every((verdict) => verdict.healthy) ? 0 : 1;
}

/** Every line the doctor prints: whatever URL it quotes, its user and password are masked. */
function say(stream: NodeJS.WritableStream, line: string): void {
  stream.write(`${maskUserinfo(line)}\n`);
}

/** Every option the doctor takes. */
const OPTIONS = {
  url: { type: 'string' },
  appid: { type: 'string', multiple: true },
  function: { type: 'string' },
  issuer: { type: 'string' },
  me: { type: 'boolean' },
  'allow-sandbox': { type: 'boolean' },
  // 35 s: longer than API Gateway's 30 s, so its own timeout answer is seen.
  timeout: { type: 'string', default: '35' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsOptionsConfig;

/** One line of `--help` per option, as it is written and what it does: none can be left out. */
const OPTION_HELP: Record<keyof typeof OPTIONS, readonly [string, string]> = {
  url: [
    '--url <url>',
    "the stack's EndpointUrl output (…/openid) or the API's base URL (BaseUrl); required",
  ],
  appid: [
    '--appid <wx…>',
    'the apps to check: wx + 16 letters or digits; repeat it or separate with commas',
  ],
  function: [
    '--function <name>',
    "invoke the stack's function (its FunctionName output; AWS_* variables) to check each AppID's access token and the users table",
  ],
  issuer: [
    '--issuer <url>',
    "the sessions' issuer if not the base URL, exactly as the discovery document names it",
  ],
  me: ['--me', "also call GET /me with the login's token"],
  'allow-sandbox': [
    '--allow-sandbox',
    'accept the local sandbox (npm start without credentials), which takes any code',
  ],
  timeout: ['--timeout <seconds>', 'how long to wait for each answer (default 35)'],
  help: ['-h, --help', 'print this help and exit'],
};

const SYNOPSIS =
  'Usage: npm run doctor -- --url <EndpointUrl or BaseUrl> [--appid wx…[,wx…]] [--function FunctionName] [--issuer https://…] [--me] [--allow-sandbox] [--timeout seconds]';

const HELP = [
  SYNOPSIS,
  '',
  'Posts a made-up login code, then checks what the JWT authorizer reads; with --function, invokes the function to check its WeChat access tokens and its users table. Exits 0 healthy, 1 not healthy, 2 on a usage error.',
  '',
  ...((): string[] => {
    const lines = Object.values(OPTION_HELP);
    const width = Math.max(...lines.map(([flag]) => flag.length)) + 2;
    return lines.map(([flag, text]) => `  ${flag.padEnd(width)}${text}`);
  })(),
].join('\n');

/** parseArgs' reading, or its refusal (an unknown option, a missing value) as a problem. */
function readArgs(args: string[]) {
  try {
    // Positionals are refused by the caller, without quoting them: a stray argument may be a
    // URL with a password.
    return parseArgs({ args, allowPositionals: true, options: OPTIONS });
  } catch (error) {
    return { problem: (error as Error).message };
  }
}

/** The options, what is wrong with them, or a request for help. */
async function parseOptions(
  args: string[],
): Promise<Options | { readonly problem: string } | { readonly help: true }> {
  const parsed = readArgs(args);
  if ('problem' in parsed) return parsed;
  const { values, positionals } = parsed;
  if (values.help) return { help: true };
  const problem = (text: string) => ({ problem: text });
  if (positionals.length > 0) {
    return problem(
      'The doctor takes no arguments besides its options: pass the endpoint as --url <EndpointUrl or BaseUrl>.',
    );
  }
  if (values.url === undefined) {
    return problem("--url is missing: pass the stack's http(s) EndpointUrl or BaseUrl.");
  }
  // Never quoted: a URL that does not parse cannot be masked reliably.
  if (!URL.canParse(values.url)) return problem('--url could not be parsed as a URL.');
  const given = new URL(values.url);
  if (!/^https?:$/.test(given.protocol)) {
    return problem("--url must be the stack's http(s) EndpointUrl or BaseUrl.");
  }
  const appids = [
    ...new Set((values.appid ?? []).flatMap((given) => given.split(',').map((id) => id.trim()))),
  ];
  if (!appids.every((appid) => ISSUED_APP_ID.test(appid))) {
    return problem(
      '--appid must be a mini program AppID as the secret holds it: wx followed by 16 letters or digits.',
    );
  }
  let fn: Options['function'];
  if (values.function !== undefined) {
    const name = values.function.trim();
    if (!/^[A-Za-z0-9_:.-]{1,170}$/.test(name)) {
      return problem("--function must be the stack's FunctionName output (or the function's ARN).");
    }
    if (appids.length === 0) {
      return problem(
        '--function needs --appid: the AppIDs the secret holds, as the function checks one access token for each.',
      );
    }
    const target = await lambdaTarget(process.env);
    if ('problem' in target) return target;
    fn = { name, target };
  }
  let issuer = values.issuer;
  if (issuer !== undefined && !isIssuer(issuer)) {
    return problem(
      '--issuer must be the http(s) issuer URL without a trailing slash, query or fragment.',
    );
  }
  const warnings: string[] = [];
  const url = withoutUserinfo(given);
  if (url !== given) warnings.push(credentialsIgnored('--url'));
  if (issuer !== undefined) {
    const named = new URL(issuer);
    const bare = withoutUserinfo(named);
    if (bare !== named) {
      warnings.push(credentialsIgnored('--issuer'));
      // As given otherwise: without a path, the href would add the slash an issuer never has.
      issuer = `${bare.origin}${bare.pathname === '/' ? '' : bare.pathname}`;
    }
  }
  const timeoutSeconds = Number(values.timeout);
  if (!(timeoutSeconds > 0)) return problem('--timeout must be a positive number of seconds.');
  const { login, base } = endpointUrls(url);
  return {
    url: login,
    base,
    appids,
    function: fn,
    issuer,
    me: values.me ?? false,
    allowSandbox: values['allow-sandbox'] ?? false,
    timeoutMs: timeoutSeconds * 1000,
    warnings,
  };
}

/** weapp-openid takes no credentials in a URL, and fetch refuses a URL that has them. */
function credentialsIgnored(option: string): string {
  return `${option} carries credentials (user:password@): the doctor does not send them, as weapp-openid takes none in a URL.`;
}

function usage(problem: string): number {
  say(process.stderr, problem);
  say(process.stderr, SYNOPSIS);
  say(process.stderr, '--help lists what each option does.');
  return 2;
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
