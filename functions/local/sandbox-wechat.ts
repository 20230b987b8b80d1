import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseJsonObject } from '../commons/json.ts';
import { createUsedCodes } from './used-codes.ts';

/** The AppSecret the sandbox's in-memory secret holds for every AppID. */
export const SANDBOX_APP_SECRET = 'sandbox-app-secret';
/** Used when a request names no AppID. */
export const SANDBOX_DEFAULT_APP_ID = 'wx000000000sandbox';

/**
 * Codes that make the sandbox answer like WeChat does when something goes wrong, so every
 * failure path can be seen from the devtools. Any other well-formed code logs in.
 */
export const SANDBOX_CODES = {
  'sandbox-invalid-code': { errcode: 40029, errmsg: 'invalid code' },
  'sandbox-code-used': { errcode: 40163, errmsg: 'code been used' },
  'sandbox-user-blocked': { errcode: 40226, errmsg: 'invalid user' },
  'sandbox-rate-limited': { errcode: 45011, errmsg: 'api minute-quota reach limit' },
  'sandbox-busy': { errcode: -1, errmsg: 'system error' },
  'sandbox-bad-secret': { errcode: 40125, errmsg: 'invalid appsecret' },
} as const;
/** Never answers: the backend gives up after WECHAT_TIMEOUT_MS. */
export const SANDBOX_TIMEOUT_CODE = 'sandbox-timeout';
/** Answers an HTML error page, as a broken proxy would. */
export const SANDBOX_GARBAGE_CODE = 'sandbox-garbage';
/** Codes starting with this log in with a unionid too. */
export const SANDBOX_UNIONID_PREFIX = 'sandbox-unionid';
/** `sandbox-user-NAME-…` logs in the sandbox user NAME (letters and digits) instead of the AppID's one user. */
export const SANDBOX_USER = /^sandbox-user-([A-Za-z0-9]+)-/;
/** Phone codes that make the sandbox answer as WeChat does when a lookup fails. */
export const SANDBOX_PHONE_CODES = {
  'sandbox-phone-invalid': { errcode: 40029, errmsg: 'invalid code' },
  'sandbox-phone-rate-limited': { errcode: 45011, errmsg: 'api minute-quota reach limit' },
} as const;

/** How long WeChat keeps a login code: after it, the sandbox forgets the code was used. */
export const SANDBOX_CODE_LIFETIME_MS = 5 * 60_000;
/** The most used codes the sandbox remembers; over it, it forgets the oldest first. */
export const SANDBOX_MAX_REMEMBERED = 100_000;

export interface SandboxWechatOptions {
  /** A monotonic clock in milliseconds; performance.now by default. */
  readonly now?: () => number;
  /** How long a used code is refused; SANDBOX_CODE_LIFETIME_MS by default. */
  readonly codeLifetimeMs?: number;
  /** The most used codes remembered; SANDBOX_MAX_REMEMBERED by default. */
  readonly maxRemembered?: number;
}

export interface SandboxWechat {
  readonly url: URL;
  /** How many used codes it remembers now. */
  readonly remembered: number;
  close(): Promise<void>;
}

/**
 * A stand-in for WeChat's code2Session on loopback, for `npm start` without credentials. It
 * behaves as WeChat does where a developer can notice: text/plain JSON, single-use codes,
 * openids that depend on the AppID, the AppSecret checked.
 *
 * A code is refused as used for the 5 minutes WeChat keeps it, then forgotten, so memory
 * does not grow with every login. WeChat would call such an old code invalid; the sandbox
 * issued no codes, so cannot tell it from a new one, and logs it in again.
 */
export async function startSandboxWechat(
  options: SandboxWechatOptions = {},
): Promise<SandboxWechat> {
  const used = createUsedCodes({
    lifetimeMs: options.codeLifetimeMs ?? SANDBOX_CODE_LIFETIME_MS,
    max: options.maxRemembered ?? SANDBOX_MAX_REMEMBERED,
    now: options.now ?? (() => performance.now()),
  });
  const hanging = new Set<http.ServerResponse>();
  /** The access tokens handed out, and the AppID each is for. */
  const accessTokens = new Map<string, string>();
  const usedPhoneCodes = createUsedCodes({
    lifetimeMs: options.codeLifetimeMs ?? SANDBOX_CODE_LIFETIME_MS,
    max: options.maxRemembered ?? SANDBOX_MAX_REMEMBERED,
    now: options.now ?? (() => performance.now()),
  });
  const server = http.createServer((req, res) => {
    // Loopback only, but a target URL parsing rejects must not end the process either.
    const url = URL.parse(req.url ?? '/', 'http://sandbox');
    const answerJson = (body: object) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (url?.pathname === '/cgi-bin/stable_token' && req.method === 'POST') {
      return void readJson(req).then((body) => {
        if (body.secret !== SANDBOX_APP_SECRET || typeof body.appid !== 'string') {
          return answerJson({ errcode: 40125, errmsg: 'invalid appsecret' });
        }
        // One token per AppID, the same for every caller, as WeChat's stable token is.
        const token = `sandbox-access-token-${digest(`token\n${body.appid}`)}`;
        accessTokens.set(token, body.appid);
        answerJson({ access_token: token, expires_in: 7200 });
      });
    }
    if (url?.pathname === '/wxa/business/getuserphonenumber' && req.method === 'POST') {
      return void readJson(req).then((body) => {
        const appid = accessTokens.get(url.searchParams.get('access_token') ?? '');
        if (appid === undefined)
          return answerJson({ errcode: 40001, errmsg: 'invalid credential' });
        const code = typeof body.code === 'string' ? body.code : '';
        const openid = typeof body.openid === 'string' ? body.openid : '';
        if (Object.hasOwn(SANDBOX_PHONE_CODES, code))
          return answerJson(SANDBOX_PHONE_CODES[code as keyof typeof SANDBOX_PHONE_CODES]);
        const key = `${appid}\n${openid}\n${code}`;
        // A phone code works once, as on WeChat.
        if (!usedPhoneCodes.use(usedKey(`phone\n${key}`)))
          return answerJson(SANDBOX_PHONE_CODES['sandbox-phone-invalid']);
        const pure = `1${decimalDigest(`phone\n${key}`, 10)}`;
        answerJson({
          errcode: 0,
          errmsg: 'ok',
          phone_info: {
            phoneNumber: pure,
            purePhoneNumber: pure,
            countryCode: '86',
            watermark: { timestamp: Math.floor(Date.now() / 1000), appid },
          },
        });
      });
    }
    if (url?.pathname !== '/sns/jscode2session') {
      res
        .writeHead(404, { 'content-type': 'text/html' })
        .end('<html><body>404 Not Found</body></html>');
      return;
    }
    const appid = url.searchParams.get('appid') ?? '';
    const code = url.searchParams.get('js_code') ?? '';
    const answer = (body: object) => {
      res.writeHead(200, { 'content-type': 'text/plain' }).end(JSON.stringify(body));
    };
    if (url.searchParams.get('secret') !== SANDBOX_APP_SECRET)
      return answer({ errcode: 40125, errmsg: 'invalid appsecret' });
    if (code === SANDBOX_TIMEOUT_CODE) {
      hanging.add(res);
      res.on('close', () => hanging.delete(res));
      return;
    }
    if (code === SANDBOX_GARBAGE_CODE) {
      res
        .writeHead(502, { 'content-type': 'text/html' })
        .end('<html><body>502 Bad Gateway</body></html>');
      return;
    }
    // Own keys only: a code such as `constructor` is an ordinary code, not Object.prototype's.
    if (Object.hasOwn(SANDBOX_CODES, code))
      return answer(SANDBOX_CODES[code as keyof typeof SANDBOX_CODES]);
    const key = `${appid}\n${code}`;
    if (!used.use(usedKey(key))) return answer(SANDBOX_CODES['sandbox-code-used']);
    // One user per AppID, as the devtools' developer is one WeChat user; `sandbox-user-NAME-`
    // codes log in others. The unionid is the user's across AppIDs, as on WeChat.
    const user = SANDBOX_USER.exec(code)?.[1] ?? '';
    const session = {
      openid: `o${digest(`openid\n${appid}\n${user}`)}`,
      // As WeChat's: the base64 of 16 bytes, new with every login.
      session_key: createHash('sha256')
        .update(`session\n${key}`)
        .digest()
        .subarray(0, 16)
        .toString('base64'),
      ...(code.startsWith(SANDBOX_UNIONID_PREFIX) && { unionid: `u${digest(`unionid\n${user}`)}` }),
    };
    answer(session);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: new URL(`http://127.0.0.1:${port}`),
    get remembered() {
      return used.size;
    },
    close: () =>
      new Promise((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * 12 characters (72 bits) for an (appid, code), whatever the code's length. The sandbox then
 * holds about 75 bytes per used code; with `appid\ncode` as the key it held about 280, since
 * the key's parts are slices that keep the whole request URL alive.
 */
function usedKey(key: string): string {
  return createHash('shake256', { outputLength: 9 }).update(key).digest('base64url');
}

/** The JSON object of a request's body; anything else is an empty object. */
async function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of req as AsyncIterable<Buffer>) {
    text += chunk.toString('utf8');
    if (text.length > 16_384) break;
  }
  return parseJsonObject(text) ?? {};
}

/** `length` decimal digits drawn from a text's hash. */
function decimalDigest(text: string, length: number): string {
  const hash = createHash('sha256').update(text).digest();
  let digits = '';
  for (let i = 0; digits.length < length; i++) digits += String((hash[i] ?? 0) % 10);
  return digits;
}

/** 27 URL-safe characters, like the body of a real openid. */
function digest(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 27);
}
