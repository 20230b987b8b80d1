import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
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
  const server = http.createServer((req, res) => {
    // Loopback only, but a target URL parsing rejects must not end the process either.
    const url = URL.parse(req.url ?? '/', 'http://sandbox');
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
    const session = {
      openid: `o${digest(`openid\n${key}`)}`,
      session_key: digest(`session\n${key}`),
      ...(code.startsWith(SANDBOX_UNIONID_PREFIX) && { unionid: `u${digest(`unionid\n${code}`)}` }),
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

/** 27 URL-safe characters, like the body of a real openid. */
function digest(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 27);
}
