/**
 * The README's sandbox mode as properties of the local server, over HTTP on loopback:
 * any well-formed code logs in once, as the AppID's one user (or, for a `sandbox-user-NAME-`
 * code, as the sandbox user NAME), so the openid depends only on (appid, user); a second use is
 * `code_used`, as on WeChat.
 *
 * Reproduce a failure with the seed it prints: FC_SEED=<seed> npx vitest run test/properties
 */
import http from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../functions/adapters/log.ts';
import { loadConfig } from '../../functions/config.ts';
import {
  SANDBOX_CODES,
  SANDBOX_GARBAGE_CODE,
  SANDBOX_TIMEOUT_CODE,
  SANDBOX_UNIONID_PREFIX,
  SANDBOX_USER,
} from '../../functions/local/sandbox-wechat.ts';
import { type LocalServer, startLocalServer } from '../../functions/local/server.ts';
import { referer } from '../../harness/fixtures.ts';
import { checkAnswer, type Parsed } from '../support/contract.ts';
import { SEED } from './seed.ts';

const RUNS = 300;

/** Names every plain object inherits: a lookup table keyed by code must not see them. */
const INHERITED_NAMES = [
  'constructor',
  'toString',
  'toLocaleString',
  'valueOf',
  'hasOwnProperty',
  'isPrototypeOf',
  'propertyIsEnumerable',
  '__proto__',
  '__defineGetter__',
  '__defineSetter__',
  '__lookupGetter__',
  '__lookupSetter__',
];
const DOCUMENTED = new Set<string>([
  ...Object.keys(SANDBOX_CODES),
  SANDBOX_TIMEOUT_CODE,
  SANDBOX_GARBAGE_CODE,
]);

/**
 * Well-formed codes that are not one of the documented sandbox triggers, and that log in the
 * AppID's own user (no `sandbox-user-NAME-` prefix).
 */
const wellFormedCode = fc
  .oneof(
    { weight: 6, arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{1,128}$/) },
    { weight: 2, arbitrary: fc.constantFrom(...INHERITED_NAMES) },
    {
      weight: 1,
      arbitrary: fc
        .stringMatching(/^[A-Za-z0-9_-]{0,40}$/)
        .map((s) => `${SANDBOX_UNIONID_PREFIX}${s}`),
    },
  )
  .filter((code) => !DOCUMENTED.has(code) && !SANDBOX_USER.test(code));

/** A sandbox user's name: letters and digits. */
const userName = fc.stringMatching(/^[A-Za-z0-9]{1,20}$/);

let servers: [LocalServer, LocalServer];
let runs = 0;
/** A fresh AppID per login, so that (appid, code) is new even when a code repeats. */
let nextApp = 0;
const freshAppId = () => `wx${(++nextApp).toString(16).padStart(16, '0')}`;

beforeAll(async () => {
  const config = loadConfig({ PORT: '0' });
  const quiet = createLogger({}, () => {});
  servers = [
    await startLocalServer(config, quiet, '127.0.0.1'),
    await startLocalServer(config, quiet, '127.0.0.1'),
  ];
});

afterAll(async () => {
  await Promise.all(servers?.map((server) => server.close()) ?? []);
  console.log(
    `sandbox property runs (seed ${SEED}): ${runs} generated cases (codes and HTTP requests)`,
  );
});

async function login(server: LocalServer, code: string, appId: string): Promise<Parsed> {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', referer: referer(appId, 'devtools') },
    body: JSON.stringify({ code }),
  });
  const answer = {
    status: response.status,
    headers: Object.fromEntries(response.headers),
    body: await response.text(),
  };
  const checked = checkAnswer(answer, { localRoutes: true });
  expect(checked.violations, `${answer.status} ${answer.body}`).toEqual([]);
  expect(response.headers.get('apigw-requestid')).toBeTruthy();
  return checked.parsed as Parsed;
}

describe('the sandbox', () => {
  it('logs any well-formed code in once, with an openid that depends on the AppID', async () => {
    await fc.assert(
      fc.asyncProperty(wellFormedCode, async (code) => {
        runs++;
        const [one, two] = servers;
        const appId = freshAppId();
        const otherAppId = freshAppId();

        const first = await login(one, code, appId);
        expect(first.kind, `first use of ${JSON.stringify(code)}`).toBe('ok');
        if (first.kind !== 'ok') return;
        expect(first.unionid !== undefined).toBe(code.startsWith(SANDBOX_UNIONID_PREFIX));

        expect(await login(one, code, appId)).toMatchObject({
          kind: 'problem',
          code: 'code_used',
          errcode: 40163,
        });
        // Same (appid, code) on a fresh sandbox: the same answer; another appid: another openid.
        expect(await login(two, code, appId)).toEqual(first);
        const other = await login(one, code, otherAppId);
        expect(other.kind).toBe('ok');
        expect(other.kind === 'ok' && other.openid).not.toBe(first.openid);
      }),
      { numRuns: RUNS, seed: SEED, verbose: fc.VerbosityLevel.Verbose },
    );
  }, 60_000);

  it("gives every code of an AppID its one user's openid, and each sandbox-user-NAME- its own", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(wellFormedCode, { minLength: 2, maxLength: 5 }),
        fc.uniqueArray(userName, { minLength: 1, maxLength: 3 }),
        fc.stringMatching(/^[A-Za-z0-9_-]{0,20}$/),
        async (codes, names, suffix) => {
          runs++;
          const appId = freshAppId();
          const openidOf = async (code: string) => {
            const answer = await login(servers[0], code, appId);
            expect(answer.kind, `first use of ${JSON.stringify(code)}`).toBe('ok');
            return answer.kind === 'ok' ? answer.openid : undefined;
          };
          const own = new Set<string | undefined>();
          for (const code of codes) own.add(await openidOf(code));
          const named = new Map<string, Set<string | undefined>>();
          for (const name of names) {
            // Two codes of one name: the same user, whatever follows the prefix.
            const openids = new Set([
              await openidOf(`sandbox-user-${name}-a${suffix}`),
              await openidOf(`sandbox-user-${name}-b${suffix}`),
            ]);
            named.set(name, openids);
          }

          expect(own.size).toBe(1);
          for (const openids of named.values()) expect(openids.size).toBe(1);
          const everyone = new Set([...own, ...[...named.values()].flatMap((set) => [...set])]);
          expect(everyone.size).toBe(1 + names.length);
        },
      ),
      { numRuns: RUNS / 3, seed: SEED, verbose: fc.VerbosityLevel.Verbose },
    );
  }, 60_000);
});

/** One raw HTTP exchange (fetch refuses some methods and bodies this property needs). */
function exchange(
  url: URL,
  method: string,
  path: string,
  headers: Record<string, string>,
  body: Buffer,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, method, path, headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('any HTTP request to the local server', () => {
  const httpCase = fc.record({
    method: fc.oneof(
      { weight: 6, arbitrary: fc.constant('POST') },
      { weight: 1, arbitrary: fc.constantFrom('GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS') },
    ),
    path: fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom('/openid', '/openid?x=1', '/openid#f') },
      {
        weight: 1,
        arbitrary: fc.constantFrom('/', '/openid/', '/OPENID', '/x', '/openid/../openid2'),
      },
    ),
    contentType: fc.option(
      fc.constantFrom(
        'application/json',
        'application/json; charset=utf-8',
        'text/plain',
        'application/x-www-form-urlencoded',
        'application/vnd.api+json',
        'application/octet-stream',
        'image/png',
        'multipart/form-data; boundary=x',
      ),
      { nil: undefined },
    ),
    body: fc.oneof(
      { weight: 6, arbitrary: fc.constant('login' as const) },
      { weight: 1, arbitrary: fc.constant('empty' as const) },
      { weight: 2, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 4000 }) },
      { weight: 1, arbitrary: fc.integer({ min: 70_000, max: 400_000 }) },
    ),
  });

  it('answers the contract, never 5xx, with the request id in header and body', async () => {
    await fc.assert(
      fc.asyncProperty(httpCase, async (c) => {
        runs++;
        const appId = freshAppId();
        const code = `http${nextApp}`;
        const body =
          c.body === 'login'
            ? Buffer.from(JSON.stringify({ code, appid: appId }))
            : c.body === 'empty'
              ? Buffer.alloc(0)
              : typeof c.body === 'number'
                ? Buffer.alloc(c.body, 0x7b)
                : Buffer.from(c.body);
        const headers: Record<string, string> = {};
        if (c.contentType) headers['content-type'] = c.contentType;
        const response = await exchange(servers[0].url, c.method, c.path, headers, body);
        const checked = checkAnswer(
          { status: response.status, headers: response.headers, body: response.body },
          { localRoutes: true },
        );
        expect(checked.violations, `${response.status} ${response.body}`).toEqual([]);
        const parsed = checked.parsed as Parsed;
        expect(response.status).toBeLessThan(500);

        const pathname = c.path.split(/[?#]/)[0];
        let want: string;
        if (pathname !== '/openid') want = 'not_found';
        else if (c.method !== 'POST') want = 'method_not_allowed';
        else if (c.body === 'login') want = 'ok';
        else if (typeof c.body === 'number') want = 'payload_too_large';
        else want = 'invalid_request';
        expect(parsed.kind === 'ok' ? 'ok' : parsed.code).toBe(want);
        if (want === 'method_not_allowed') expect(response.headers.allow).toBe('POST');
        if (parsed.kind === 'problem')
          expect(response.headers['apigw-requestid']).toBe(parsed.requestId);
        else expect(response.headers['apigw-requestid']).toBeTruthy();
      }),
      { numRuns: RUNS, seed: SEED, verbose: fc.VerbosityLevel.Verbose },
    );
  }, 60_000);
});
