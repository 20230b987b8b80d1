import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../functions/adapters/log.ts';
import { loadConfig } from '../../functions/config.ts';
import { Problem } from '../../functions/domain/problem.ts';
import type { UserStore } from '../../functions/domain/users.ts';
import { CATALOGUE } from '../../functions/handler/catalogue.ts';
import { createLocalAuthorizer } from '../../functions/local/authorizer.ts';
import { createMemoryKeys } from '../../functions/local/memory-keys.ts';
import { createRequestListener, type LocalRoutes } from '../../functions/local/request-listener.ts';
import { type LocalServer, startLocalServer } from '../../functions/local/server.ts';
import { createApiHandler, credentialSource } from '../../functions/wiring.ts';
import {
  errcode,
  type FakeWechat,
  PHONE_PATH,
  type Reply,
  startFakeWechat,
} from '../../harness/fake-wechat.ts';
import { APP_ID, APP_SECRET, OTHER_APP_ID, referer } from '../../harness/fixtures.ts';
import {
  openapi,
  pointer,
  resolve,
  responseErrors,
  responseFor,
  schemaErrors,
} from './openapi-document.ts';

const silent = createLogger({}, () => {});

/**
 * Where each case is sent: the sandbox (sessions on), real credentials with sessions off, or
 * `scripted`: real credentials, sessions on with an in-memory key, a WeChat stand-in the case
 * scripts, and a users table that always fails, for the failures no sandbox code causes.
 */
type Server = 'sandbox' | 'off' | 'scripted';

/** Tokens the cases send: from sandbox logins (one user each), a forged one, or the scripted server's. */
type TokenName = 'plain' | 'unionid' | 'forged' | 'binder' | 'phone' | 'eraser' | 'scripted';

interface Case {
  readonly method: string;
  readonly path: string;
  readonly body?: string | Buffer;
  readonly headers?: Readonly<Record<string, string>>;
  readonly server?: Server;
  /** The session token sent to a protected route. */
  readonly token?: TokenName;
  /** What the scripted WeChat answers, in turn. */
  readonly wechat?: readonly Reply[];
  /** Fields the answer's body must hold (optional ones the case is about). */
  readonly has?: readonly string[];
  /** Answers no operation owns are documented as a component response. */
  readonly component?: 'NotFound' | 'MethodNotAllowed';
  readonly status: number;
  readonly code?: string;
  /** Whether the body is what the operation's request schema describes. */
  readonly request?: 'valid' | 'invalid';
}

/** The request body's schema of each operation that takes one. */
const REQUEST_SCHEMAS: Readonly<Record<string, string>> = {
  '/openid': 'LoginRequest',
  '/phone': 'PhoneRequest',
};

const login = (body: string | Buffer, status: number, code?: string, extra: Partial<Case> = {}) =>
  ({ method: 'POST', path: '/openid', body, status, ...(code && { code }), ...extra }) as Case;
const code = (value: string) => JSON.stringify({ code: value });
const phone = (
  body: string | Buffer,
  status: number,
  problem?: string,
  extra: Partial<Case> = {},
) =>
  ({
    method: 'POST',
    path: '/phone',
    body,
    status,
    token: 'binder',
    ...(problem && { code: problem }),
    ...extra,
  }) as Case;
const deleteMe = (status: number, problem?: string, extra: Partial<Case> = {}) =>
  ({ method: 'DELETE', path: '/me', status, ...(problem && { code: problem }), ...extra }) as Case;

/** The phone code the set-up binds with: used once, so any later use is refused. */
const SETUP_PHONE_CODE = 'doc-phone-setup';
/** The scripted WeChat's phone number answer for an AppID. */
const phoneInfo = (appid: string): Reply => ({
  kind: 'json',
  body: {
    errcode: 0,
    errmsg: 'ok',
    phone_info: {
      phoneNumber: '13800138000',
      purePhoneNumber: '13800138000',
      countryCode: '86',
      watermark: { timestamp: 1637744274, appid },
    },
  },
});

/** A users table that cannot be reached: logins and binds go on without it, erasures fail. */
const UNREACHABLE_USERS: UserStore = {
  recordLogin: () => Promise.reject(new Problem('store_unavailable', { reason: 'unreachable' })),
  bindPhone: () => Promise.reject(new Problem('store_unavailable', { reason: 'unreachable' })),
  erase: () => Promise.reject(new Problem('store_unavailable', { reason: 'unreachable' })),
  sealedSessionKey: () =>
    Promise.reject(new Problem('store_unavailable', { reason: 'unreachable' })),
};

const CASES: Readonly<Record<string, Case>> = {
  'a login with a token': login(code('doc-plain-1'), 200, undefined, { request: 'valid' }),
  'a login with a unionid': login(code('sandbox-unionid-doc-1'), 200, undefined, {
    request: 'valid',
  }),
  "a login named by wx.request's Referer and a body appid": login(
    JSON.stringify({ code: 'doc-referer-1', appid: APP_ID, other: 'ignored' }),
    200,
    undefined,
    { headers: { referer: referer(OTHER_APP_ID) }, request: 'valid' },
  ),
  'a base64-encoded body': login(Buffer.from(code('doc-binary-1')), 200, undefined, {
    headers: { 'content-type': 'application/octet-stream' },
    request: 'valid',
  }),
  'a login of a user with a bound number': login(
    code('sandbox-user-docphone-again'),
    200,
    undefined,
    { request: 'valid', has: ['phoneNumber', 'countryCode', 'token'] },
  ),
  'a login with sessions off (no token)': login(code('doc-off-1'), 200, undefined, {
    server: 'off',
    request: 'valid',
  }),
  'sandbox-invalid-code': login(code('sandbox-invalid-code'), 400, 'invalid_code'),
  'sandbox-code-used': login(code('sandbox-code-used'), 400, 'code_used'),
  'sandbox-user-blocked': login(code('sandbox-user-blocked'), 403, 'user_blocked'),
  'sandbox-rate-limited': login(code('sandbox-rate-limited'), 429, 'rate_limited'),
  'sandbox-busy': login(code('sandbox-busy'), 503, 'upstream_busy'),
  'sandbox-timeout': login(code('sandbox-timeout'), 504, 'upstream_timeout'),
  'sandbox-garbage': login(code('sandbox-garbage'), 502, 'upstream_error'),
  'sandbox-bad-secret': login(code('sandbox-bad-secret'), 500, 'misconfigured'),
  'an AppID the secret does not serve': login(code('doc-mismatch-1'), 400, 'appid_mismatch', {
    server: 'off',
    headers: { referer: referer(OTHER_APP_ID) },
    request: 'valid',
  }),
  'no body': login('', 400, 'invalid_request'),
  'a body that is not JSON': login('code=abc', 400, 'invalid_request'),
  'a body that is not an object': login('["abc"]', 400, 'invalid_request', { request: 'invalid' }),
  'no code': login('{}', 400, 'invalid_request', { request: 'invalid' }),
  'a code that is not a string': login('{"code":42}', 400, 'invalid_request', {
    request: 'invalid',
  }),
  'an empty code': login(code(''), 400, 'invalid_request', { request: 'invalid' }),
  'a blank code': login(code('   '), 400, 'invalid_request', { request: 'invalid' }),
  'a code over 128 characters': login(code('a'.repeat(129)), 400, 'invalid_request', {
    request: 'invalid',
  }),
  'a code outside [A-Za-z0-9_-]': login(code('abc.def'), 400, 'invalid_request', {
    request: 'invalid',
  }),
  'a malformed appid': login(
    JSON.stringify({ code: 'doc-appid-1', appid: 'wx/..' }),
    400,
    'invalid_request',
    { request: 'invalid' },
  ),
  'a body over 16 KiB': login(code('a'.repeat(17 * 1024)), 413, 'payload_too_large'),
  'the discovery document': {
    method: 'GET',
    path: '/.well-known/openid-configuration',
    status: 200,
  },
  'the JWKS': { method: 'GET', path: '/.well-known/jwks.json', status: 200 },
  '/me with a token': { method: 'GET', path: '/me', token: 'plain', status: 200 },
  '/me with a unionid token': { method: 'GET', path: '/me', token: 'unionid', status: 200 },
  '/me with a token carrying a number': {
    method: 'GET',
    path: '/me',
    token: 'phone',
    status: 200,
    has: ['phoneNumber'],
  },
  '/me without a token': { method: 'GET', path: '/me', status: 401, code: 'unauthorized' },
  '/me with a forged token': {
    method: 'GET',
    path: '/me',
    token: 'forged',
    status: 401,
    code: 'unauthorized',
  },
  'discovery with sessions off': {
    method: 'GET',
    path: '/.well-known/openid-configuration',
    server: 'off',
    status: 404,
    code: 'not_found',
  },
  'the JWKS with sessions off': {
    method: 'GET',
    path: '/.well-known/jwks.json',
    server: 'off',
    status: 404,
    code: 'not_found',
  },
  '/me with sessions off': {
    method: 'GET',
    path: '/me',
    server: 'off',
    status: 404,
    code: 'not_found',
  },
  'an unknown path': {
    method: 'GET',
    path: '/nothing-here',
    component: 'NotFound',
    status: 404,
    code: 'not_found',
  },
  'GET /openid': {
    method: 'GET',
    path: '/openid',
    component: 'MethodNotAllowed',
    status: 405,
    code: 'method_not_allowed',
  },
  'PUT /me': {
    method: 'PUT',
    path: '/me',
    component: 'MethodNotAllowed',
    status: 405,
    code: 'method_not_allowed',
  },
  'POST /phone': phone(code('doc-phone-1'), 200, undefined, {
    request: 'valid',
    has: ['phoneNumber', 'countryCode', 'token', 'expiresIn'],
  }),
  'POST /phone with a phone code already used': phone(
    code(SETUP_PHONE_CODE),
    400,
    'invalid_phone_code',
    { token: 'phone', request: 'valid' },
  ),
  'sandbox-phone-invalid': phone(code('sandbox-phone-invalid'), 400, 'invalid_phone_code'),
  'sandbox-phone-rate-limited': phone(code('sandbox-phone-rate-limited'), 429, 'rate_limited'),
  'POST /phone with no code': phone('{}', 400, 'invalid_request', { request: 'invalid' }),
  'POST /phone with a body that is not JSON': phone('code=abc', 400, 'invalid_request'),
  'POST /phone with a code outside [A-Za-z0-9_-]': phone(code('abc.def'), 400, 'invalid_request', {
    request: 'invalid',
  }),
  'POST /phone with a body over 16 KiB': phone(
    code('a'.repeat(17 * 1024)),
    413,
    'payload_too_large',
  ),
  'POST /phone without a token': phone(code('doc-phone-2'), 401, 'unauthorized', {
    token: undefined,
  }),
  'POST /phone with a forged token': phone(code('doc-phone-3'), 401, 'unauthorized', {
    token: 'forged',
  }),
  'POST /phone with sessions off': phone(code('doc-phone-4'), 404, 'not_found', {
    server: 'off',
    token: undefined,
  }),
  'POST /phone when WeChat refuses the IP': phone(code('doc-phone-5'), 500, 'misconfigured', {
    server: 'scripted',
    token: 'scripted',
    wechat: [errcode(40164, 'invalid ip')],
  }),
  'POST /phone with a watermark of another AppID': phone(
    code('doc-phone-6'),
    502,
    'upstream_error',
    {
      server: 'scripted',
      token: 'scripted',
      wechat: [phoneInfo(OTHER_APP_ID)],
    },
  ),
  'POST /phone when WeChat stays busy': phone(code('doc-phone-7'), 503, 'upstream_busy', {
    server: 'scripted',
    token: 'scripted',
    wechat: [errcode(-1), errcode(-1), errcode(-1)],
  }),
  'POST /phone when WeChat is silent': phone(code('doc-phone-8'), 504, 'upstream_timeout', {
    server: 'scripted',
    token: 'scripted',
    wechat: [{ kind: 'hang' }],
  }),
  'POST /phone when the number cannot be kept': phone(code('doc-phone-9'), 200, undefined, {
    server: 'scripted',
    token: 'scripted',
    wechat: [phoneInfo(APP_ID)],
    has: ['phoneNumber', 'token'],
  }),
  'GET /phone': {
    method: 'GET',
    path: '/phone',
    component: 'MethodNotAllowed',
    status: 405,
    code: 'method_not_allowed',
  },
  'DELETE /me': deleteMe(204, undefined, { token: 'eraser' }),
  'DELETE /me without a token': deleteMe(401, 'unauthorized'),
  'DELETE /me with a forged token': deleteMe(401, 'unauthorized', { token: 'forged' }),
  'DELETE /me with sessions off': deleteMe(404, 'not_found', { server: 'off' }),
  'DELETE /me when the users table fails': deleteMe(503, 'store_unavailable', {
    server: 'scripted',
    token: 'scripted',
  }),
};

/** Documented answers the local server cannot give: they need KMS, or a failure no input causes. */
const ONLY_IN_THE_CLOUD = new Set([
  'GET /.well-known/openid-configuration 500',
  'GET /.well-known/jwks.json 500',
  'GET /.well-known/jwks.json 503',
  'GET /me 500',
  'DELETE /me 500',
]);

describe('docs/openapi.yaml against the local server', () => {
  const servers: Partial<Record<Server, Pick<LocalServer, 'url' | 'close'>>> = {};
  let wechat: FakeWechat;
  let scriptedWechat: FakeWechat;
  const tokens: Partial<Record<TokenName, string>> = {};
  const exercised = new Set<string>();

  beforeAll(async () => {
    servers.sandbox = await startLocalServer(
      loadConfig({ PORT: '0', WECHAT_TIMEOUT_MS: '300' }),
      silent,
      '127.0.0.1',
    );
    wechat = await startFakeWechat();
    servers.off = await startLocalServer(
      loadConfig({
        PORT: '0',
        WECHAT_APP_ID: APP_ID,
        WECHAT_APP_SECRET: APP_SECRET,
        WECHAT_API_BASE_URL: wechat.url,
      }),
      silent,
      '127.0.0.1',
    );
    scriptedWechat = await startFakeWechat();
    servers.scripted = await startScriptedServer(scriptedWechat);
    tokens.plain = await tokenFor('doc-token-1');
    tokens.unionid = await tokenFor('sandbox-unionid-doc-token');
    tokens.binder = await tokenFor('sandbox-user-docbinder-1');
    tokens.eraser = await tokenFor('sandbox-user-doceraser-1');
    tokens.phone = await bound(
      servers.sandbox.url,
      await tokenFor('sandbox-user-docphone-1'),
      SETUP_PHONE_CODE,
    );
    tokens.scripted = await tokenFor('doc-scripted-1', servers.scripted.url);
    // The scripted server's access token (the fake's default), fetched once and kept, as in the cloud.
    await bound(servers.scripted.url, tokens.scripted, 'doc-scripted-setup');
    const [header, payload, signature] = tokens.plain.split('.');
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8'));
    const tampered = Buffer.from(JSON.stringify({ ...claims, sub: 'o-someone-else' }));
    tokens.forged = `${header}.${tampered.toString('base64url')}.${signature}`;
  });

  afterAll(async () => {
    await servers.sandbox?.close();
    await servers.off?.close();
    await servers.scripted?.close();
    await wechat?.close();
    await scriptedWechat?.close();
  });

  async function tokenFor(loginCode: string, server = servers.sandbox?.url): Promise<string> {
    const response = await fetch(new URL('/openid', server), {
      method: 'POST',
      body: code(loginCode),
    });
    return ((await response.json()) as { token: string }).token;
  }

  /** Binds a number with a phone code; the new token, which carries it. */
  async function bound(server: URL, token: string, phoneCode: string): Promise<string> {
    const response = await fetch(new URL('/phone', server), {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: code(phoneCode),
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { token: string }).token;
  }

  it.each(Object.entries(CASES))('documents the answer to %s', async (_name, testCase) => {
    // Prepare
    const server = servers[testCase.server ?? 'sandbox'];
    const token = testCase.token && tokens[testCase.token];
    const headers = {
      ...testCase.headers,
      ...(token && { authorization: `Bearer ${token}` }),
    };

    if (testCase.server === 'scripted') {
      scriptedWechat.reset();
      scriptedWechat.forPath(PHONE_PATH, testCase.wechat ?? []);
    }

    // Act
    const response = await fetch(new URL(testCase.path, server?.url), {
      method: testCase.method,
      headers,
      ...(testCase.body !== undefined && testCase.body !== '' && { body: testCase.body }),
    });
    const observed = {
      status: response.status,
      headers: response.headers,
      body: await response.text(),
    };

    // Assess
    expect(observed.status).toBe(testCase.status);
    if (testCase.code !== undefined) expect(JSON.parse(observed.body).code).toBe(testCase.code);
    for (const name of testCase.has ?? []) expect(JSON.parse(observed.body)).toHaveProperty(name);
    const target = testCase.component
      ? { component: testCase.component }
      : { path: testCase.path, method: testCase.method };
    const at = responseFor(target, observed.status);
    expect(
      at,
      `HTTP ${observed.status} is documented for ${testCase.method} ${testCase.path}`,
    ).toBeDefined();
    expect(responseErrors(at ?? '', observed)).toEqual([]);
    if (testCase.request !== undefined) {
      const body = Buffer.from(testCase.body ?? '').toString('utf8');
      const requestErrors = schemaErrors(
        pointer('components', 'schemas', REQUEST_SCHEMAS[testCase.path] ?? 'none'),
        JSON.parse(body),
      );
      expect(requestErrors.length === 0 ? 'valid' : 'invalid').toBe(testCase.request);
    }
    exercised.add(testCase.component ?? `${testCase.method} ${testCase.path} ${observed.status}`);
  });

  it('has exercised every documented answer the local server can give', () => {
    // Prepare
    const documented: string[] = ['NotFound', 'MethodNotAllowed'];
    for (const [path, operations] of Object.entries(openapi.paths)) {
      for (const [method, { responses }] of Object.entries(operations)) {
        for (const status of Object.keys(responses))
          documented.push(`${method.toUpperCase()} ${path} ${status}`);
      }
    }

    // Act
    const missed = documented.filter((key) => !exercised.has(key) && !ONLY_IN_THE_CLOUD.has(key));

    // Assess
    expect(missed).toEqual([]);
    expect([...exercised].filter((key) => !documented.includes(key))).toEqual([]);
  });
});

describe('docs/openapi.yaml against the failure catalogue', () => {
  /** Every problem schema the document uses, with each status it is documented under. */
  function documentedProblems(): Map<string, { statuses: Set<number>; retryAfter: Set<unknown> }> {
    const found = new Map<string, { statuses: Set<number>; retryAfter: Set<unknown> }>();
    const responses: [number | undefined, string][] = [];
    for (const [path, operations] of Object.entries(openapi.paths)) {
      for (const [method, { responses: byStatus }] of Object.entries(operations)) {
        for (const status of Object.keys(byStatus))
          responses.push([Number(status), pointer('paths', path, method, 'responses', status)]);
      }
    }
    for (const name of Object.keys(openapi.components.responses))
      responses.push([undefined, pointer('components', 'responses', name)]);

    for (const [status, at] of responses) {
      const { node } = resolve(at);
      const problemJson = (
        node.content as Record<string, { schema: Record<string, unknown> }> | undefined
      )?.['application/problem+json'];
      if (problemJson === undefined) continue;
      const branches = (problemJson.schema.oneOf as { $ref: string }[] | undefined) ?? [
        problemJson.schema as { $ref: string },
      ];
      const retryHeader = (node.headers as Record<string, unknown> | undefined)?.['Retry-After'];
      const retrySchema = (retryHeader as { schema?: { const?: unknown; enum?: unknown[] } })
        ?.schema;
      for (const { $ref } of branches) {
        const schema = resolve($ref).node as {
          properties: { code: { const: string }; status: { const: number } };
        };
        const entry = found.get(schema.properties.code.const) ?? {
          statuses: new Set<number>(),
          retryAfter: new Set<unknown>(),
        };
        entry.statuses.add(status ?? schema.properties.status.const);
        for (const value of retrySchema?.enum ?? (retrySchema ? [retrySchema.const] : [undefined]))
          entry.retryAfter.add(value);
        found.set(schema.properties.code.const, entry);
      }
    }
    return found;
  }

  it('documents every problem code with the status and Retry-After the catalogue gives it', () => {
    // Prepare
    const documented = documentedProblems();

    // Act
    const drift = Object.entries(CATALOGUE).flatMap(([problemCode, words]) => {
      const entry = documented.get(problemCode);
      if (entry === undefined) return [`${problemCode} is not documented`];
      const retryAfter = 'retryAfterSeconds' in words ? words.retryAfterSeconds : undefined;
      return [
        ...[...entry.statuses]
          .filter((status) => status !== words.status)
          .map((status) => `${problemCode} is documented under ${status}, not ${words.status}`),
        ...(entry.retryAfter.has(retryAfter)
          ? []
          : [`${problemCode}'s Retry-After ${retryAfter} is not documented`]),
      ];
    });

    // Assess
    expect(drift).toEqual([]);
    expect([...documented.keys()].sort()).toEqual(Object.keys(CATALOGUE).sort());
  });
});

describe('docs/openapi.yaml', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    // Prepare
    const validator = new Validator();

    // Act
    const result = await validator.validate(structuredClone(openapi));

    // Assess
    expect(result).toEqual({ valid: true });
    expect(validator.version).toBe('3.1');
  });
});

/**
 * The function's handler behind the local server's request listener and authorizer, as
 * `npm start` wires them, but against a WeChat the cases script and a users table that
 * always fails: the answers of `/phone` and `DELETE /me` that no sandbox code causes.
 */
async function startScriptedServer(
  wechat: FakeWechat,
): Promise<Pick<LocalServer, 'url' | 'close'>> {
  let routes: LocalRoutes | undefined;
  const server = http.createServer(createRequestListener(() => routes, silent));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const config = loadConfig({
    PORT: '0',
    WECHAT_APP_ID: APP_ID,
    WECHAT_APP_SECRET: APP_SECRET,
    WECHAT_API_BASE_URL: wechat.url,
    WECHAT_TIMEOUT_MS: '300',
  });
  const handler = createApiHandler(
    config,
    silent,
    credentialSource(config, silent),
    'weapp-openid-docs',
    { keys: createMemoryKeys(), issuer, ttlSeconds: 7200 },
    { users: UNREACHABLE_USERS, wechatRetryDelayMs: 10 },
  );
  routes = {
    handler,
    authorize: createLocalAuthorizer({ issuer, audiences: () => Promise.resolve([APP_ID]) }),
  };
  return {
    url: new URL(`${issuer}/openid`),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
