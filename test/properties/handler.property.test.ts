/**
 * Property-based tests of the login handler with its real adapters (request parsing, login,
 * WeChat client over HTTP) against the loopback fake WeChat. Thousands of generated requests
 * and WeChat answers; for every one the handler must resolve with a contract answer, log one
 * line, and leak nothing.
 *
 * Reproduce a failure with the seed it prints: FC_SEED=<seed> npx vitest run test/properties
 * (CI=1 fixes the seed; FC_SCALE=<n> multiplies the number of runs).
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStaticSource } from '../../functions/adapters/secret-store.ts';
import { parseSecretValue } from '../../functions/domain/apps.ts';
import { type FakeWechat, type Reply, startFakeWechat } from '../../harness/fake-wechat.ts';
import {
  APP_ID,
  APP_SECRET,
  CODE,
  multiAppSecret,
  OPENID,
  referer,
  SENSITIVE,
  singleAppSecret,
} from '../../harness/fixtures.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { checkAnswer, findLeaks } from '../support/contract.ts';
import {
  expectedForReply,
  lateReply,
  openidOf,
  sessionKeyOf,
  WECHAT_TIMEOUT_MS,
  wechatReply,
} from './replies.ts';
import { requestCase } from './request-generators.ts';
import { codeOf, expected, type Registry, type RequestCase } from './request-model.ts';
import { SEED } from './seed.ts';

/** FC_SCALE=12 turns this file into a soak of about 100,000 cases (90 s here). */
const SCALE = Math.max(1, Number(process.env.FC_SCALE) || 1);
const RUNS = { requests: 5000 * SCALE, replies: 2500 * SCALE, late: 20, events: 1000 * SCALE };
/** The timeout of the client that gets late answers: each such run costs this long. */
const LATE_TIMEOUT_MS = 100;

const tried = { requests: 0, replies: 0, late: 0, events: 0 };
/** Answers seen, by property and `status:code`, printed at the end to show what was reached. */
const answers: Record<keyof typeof tried, Map<string, number>> = {
  requests: new Map(),
  replies: new Map(),
  late: new Map(),
  events: new Map(),
};

let wechat: FakeWechat;
let apps: Record<Registry | 'late', TestApp>;

/**
 * The handler as the other tests build it, sharing one fake WeChat, with the secret parsed
 * once (the cache is the Secrets Manager tests' subject) and a short pause before retries.
 */
function app(registry: Registry, timeoutMs = WECHAT_TIMEOUT_MS): Promise<TestApp> {
  const secret = registry === 'single' ? singleAppSecret() : multiAppSecret();
  return startTestApp({
    wechat,
    env: { WECHAT_TIMEOUT_MS: String(timeoutMs) },
    credentials: () => createStaticSource(parseSecretValue(secret)),
    retryDelayMs: 5,
    echo: false,
  });
}

beforeAll(async () => {
  wechat = await startFakeWechat();
  apps = {
    single: await app('single'),
    multi: await app('multi'),
    late: await app('single', LATE_TIMEOUT_MS),
  };
});

afterAll(async () => {
  await wechat?.close();
  const seen = (map: Map<string, number>) =>
    [...map.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, n]) => `${key}=${n}`)
      .join(' ');
  console.log(
    [
      `property runs (seed ${SEED}): ${Object.values(tried).reduce((a, b) => a + b)} in total`,
      `  generated requests:        ${tried.requests} (${seen(answers.requests)})`,
      `  generated WeChat answers:  ${tried.replies} (${seen(answers.replies)})`,
      `  late WeChat answers:       ${tried.late} (${seen(answers.late)})`,
      `  arbitrary events:          ${tried.events} (${seen(answers.events)})`,
    ].join('\n'),
  );
});

const assertOptions = (numRuns: number) => ({
  numRuns,
  seed: SEED,
  verbose: fc.VerbosityLevel.Verbose,
});

/** Guards against a property passing vacuously: the generators must reach these answers. */
function expectReached(property: keyof typeof tried, keys: readonly string[]): void {
  const missing = keys.filter((key) => !answers[property].has(key));
  expect(missing, `answers the ${property} generator never produced`).toEqual([]);
}

/** Runs one invocation and checks what holds for every input; returns the parsed answer. */
async function invoke(
  property: keyof typeof tried,
  h: TestApp,
  event: unknown,
  context: { awsRequestId: string } | undefined,
  secrets: readonly (string | undefined)[],
) {
  h.lines.length = 0;
  h.written.length = 0;
  let result: APIGatewayProxyStructuredResultV2;
  try {
    result = await h.handler(event as APIGatewayProxyEventV2, context);
  } catch (error) {
    throw new Error(`the handler rejected instead of answering: ${String(error)}`);
  }
  const status = result?.statusCode ?? -1;
  const answer = { status, headers: result?.headers ?? {}, body: String(result?.body) };
  const checked = checkAnswer(answer);
  expect(checked.violations, `answer ${status} ${answer.body.slice(0, 300)}`).toEqual([]);
  const parsed = checked.parsed;
  if (!parsed) throw new Error('unreachable');

  // Exactly one structured line, naming the same request and outcome as the answer.
  expect(h.written, 'one log line per request').toHaveLength(1);
  const line = h.lines[0] as Record<string, unknown>;
  expect(line.outcome).toBe(parsed.kind === 'ok' ? 'ok' : parsed.code);
  expect(typeof line.coldStart).toBe('boolean');
  expect(typeof line.requestId).toBe('string');
  expect(typeof line.wechatMs, 'wechatMs on every line').toBe('number');
  if (parsed.kind === 'problem') {
    expect(line.requestId).toBe(parsed.requestId);
    if (parsed.errcode !== undefined) expect(line.errcode).toBe(parsed.errcode);
  }
  const id =
    (event as { requestContext?: { requestId?: string } } | null)?.requestContext?.requestId ??
    context?.awsRequestId;
  if (id !== undefined) expect(line.requestId).toBe(id);

  const wanted = [...SENSITIVE, ...secrets.filter((s): s is string => s !== undefined)];
  const leaks = findLeaks([answer.body, JSON.stringify(answer.headers), ...h.written], wanted);
  expect(leaks, 'secret, session_key or code in the answer or the log').toEqual([]);

  const key = parsed.kind === 'ok' ? '200' : `${status}:${parsed.code}`;
  answers[property].set(key, (answers[property].get(key) ?? 0) + 1);
  return { status, parsed, line };
}

describe('any request', () => {
  it(
    'is answered as the contract says, never 5xx, and reaches WeChat only when valid',
    async () => {
      await fc.assert(
        fc.asyncProperty(requestCase, async (c: RequestCase) => {
          tried.requests++;
          wechat.reset();
          const code = codeOf(c);
          const want = expected(c);
          const { status, parsed } = await invoke(
            'requests',
            apps[c.registry],
            c.event,
            c.context,
            [code],
          );

          expect(status, 'client garbage never yields a 5xx').toBeLessThan(500);
          const allowed = want.outcomes.some(
            (o) =>
              o.status === status &&
              (o.code === undefined || (parsed.kind === 'problem' && o.code === parsed.code)),
          );
          expect(
            allowed,
            `answered ${status} ${parsed.kind === 'problem' ? parsed.code : ''}; contract allows ${JSON.stringify(want.outcomes)}`,
          ).toBe(true);

          if (parsed.kind === 'ok') {
            expect(parsed).toEqual({ kind: 'ok', openid: OPENID });
            expect(want.call, 'a 200 needs a valid code and app').toBeDefined();
            expect(wechat.calls).toEqual([
              {
                appid: want.call?.appId,
                secret: want.call?.appSecret,
                jsCode: want.call?.code,
                grantType: 'authorization_code',
                path: '/sns/jscode2session',
              },
            ]);
          } else {
            expect(wechat.calls, 'a rejected request never reaches WeChat').toEqual([]);
          }
        }),
        assertOptions(RUNS.requests),
      );
      expectReached('requests', [
        '200',
        '400:invalid_request',
        '400:appid_mismatch',
        '413:payload_too_large',
      ]);
    },
    120_000 * SCALE,
  );
});

describe('any WeChat answer', () => {
  const event = {
    version: '2.0',
    routeKey: 'POST /openid',
    rawPath: '/openid',
    rawQueryString: '',
    headers: { 'content-type': 'application/json', referer: referer(APP_ID, '0') },
    requestContext: { requestId: 'WeChatAnswer00=', http: { method: 'POST', path: '/openid' } },
    body: JSON.stringify({ code: CODE }),
    isBase64Encoded: false,
  };

  /** One valid login while the fake gives `reply` to every call. */
  async function loginAgainst(
    property: 'replies' | 'late',
    h: TestApp,
    reply: Reply,
    timeoutMs: number,
  ) {
    tried[property]++;
    wechat.reset();
    wechat.fallback = reply;
    const want = expectedForReply(reply, timeoutMs);
    const { status, parsed, line } = await invoke(property, h, event, undefined, [
      CODE,
      APP_SECRET,
      sessionKeyOf(reply),
    ]);

    const allowed = want.outcomes.some(
      (o) =>
        o.status === status &&
        (parsed.kind === 'ok' || (o.code === parsed.code && o.errcode === parsed.errcode)),
    );
    expect(
      allowed,
      `answered ${JSON.stringify(parsed)}; contract allows ${JSON.stringify(want.outcomes)}`,
    ).toBe(true);
    if (parsed.kind === 'ok') expect(parsed).toEqual({ kind: 'ok', ...want.session });
    expect(wechat.calls.length).toBeGreaterThanOrEqual(1);
    expect(wechat.calls.length, 'retries only for errcode -1, at most 3 calls').toBeLessThanOrEqual(
      want.maxCalls,
    );
    expect(line.wechatMs as number).toBeGreaterThanOrEqual(0);
    // The openid is logged masked only.
    const openid = openidOf(reply);
    if (openid !== undefined && openid.length >= 12)
      expect(findLeaks(h.written, [openid]), 'unmasked openid in the log').toEqual([]);
  }

  it(
    'becomes the contract answer for it, with bounded calls and nothing leaked',
    async () => {
      await fc.assert(
        fc.asyncProperty(wechatReply, (reply: Reply) =>
          loginAgainst('replies', apps.single, reply, WECHAT_TIMEOUT_MS),
        ),
        assertOptions(RUNS.replies),
      );
      expectReached('replies', [
        '200',
        '400:invalid_code',
        '400:code_used',
        '403:user_blocked',
        '429:rate_limited',
        '500:misconfigured',
        '502:upstream_error',
        '503:upstream_busy',
      ]);
    },
    120_000 * SCALE,
  );

  it(
    'is 504 upstream_timeout, after one call, when it comes after the timeout',
    async () => {
      await fc.assert(
        fc.asyncProperty(lateReply(LATE_TIMEOUT_MS), (reply: Reply) =>
          loginAgainst('late', apps.late, reply, LATE_TIMEOUT_MS),
        ),
        assertOptions(RUNS.late),
      );
      expectReached('late', ['504:upstream_timeout']);
    },
    60_000 * SCALE,
  );
});

describe('any event at all', () => {
  const requestId = fc.stringMatching(/^[A-Za-z0-9]{14}=$/);
  const anyEvent = fc.oneof(
    fc.anything(),
    fc.record(
      {
        routeKey: fc.oneof(fc.constant('POST /openid'), fc.anything()),
        body: fc.oneof(fc.anything(), fc.string()),
        headers: fc.anything(),
        isBase64Encoded: fc.anything(),
        requestContext: fc.option(
          requestId.map((id) => ({ requestId: id })),
          { nil: undefined },
        ),
      },
      { requiredKeys: [] },
    ),
  );

  it(
    'resolves with a contract answer even when API Gateway could never send it',
    async () => {
      await fc.assert(
        fc.asyncProperty(anyEvent, async (event: unknown) => {
          tried.events++;
          wechat.reset();
          await invoke('events', apps.single, event, undefined, []);
        }),
        assertOptions(RUNS.events),
      );
    },
    60_000 * SCALE,
  );
});
