/**
 * A stand-in for the mini program runtime's `wx`, enough of it for the client: `wx.login`
 * hands out codes the test chooses, `wx.request` makes real HTTP requests with the runtime's
 * semantics, and storage lives in memory. It mimics what the real runtime does where the
 * client could trip:
 *
 * - `success` for every HTTP answer, whatever its status; `fail` only when there was none
 *   (refused, timed out), with an `errMsg` and no status;
 * - `data` parsed only for `application/json`; problem+json and text arrive as strings, as on
 *   base libraries that parse by content type;
 * - response header names in a case that varies from one answer to the next;
 * - storage that answers `''` for a missing key and keeps a copy, not the object itself;
 * - callbacks called later, never inside the call;
 * - each `wx.login` replaces the user's session_key, which `wx.checkSession` checks and with
 *   which `wx.getWeRunData` encrypts (AES-128-CBC, as WeChat does).
 */
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import http from 'node:http';

export const APP_ID = 'wx5f4bc4dec97d474c';

type Callback<T> = ((result: T) => void) | undefined;

interface LoginOptions {
  success?: Callback<{ code: string; errMsg: string }>;
  fail?: Callback<{ errMsg: string }>;
  complete?: Callback<unknown>;
}

interface RequestOptions {
  url: string;
  method?: string;
  data?: unknown;
  header?: Record<string, unknown>;
  timeout?: number;
  dataType?: string;
  responseType?: string;
  success?: Callback<{ statusCode: number; data: unknown; header: Record<string, string> }>;
  fail?: Callback<{ errMsg: string; errno: number }>;
  complete?: Callback<unknown>;
}

/** One request as it left the stand-in. */
export interface SentRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

interface CheckSessionOptions {
  success?: Callback<{ errMsg: string }>;
  fail?: Callback<{ errMsg: string }>;
}

export interface WeRunData {
  readonly errMsg: string;
  readonly encryptedData: string;
  readonly iv: string;
  readonly cloudID: string;
}

export interface WxRuntime {
  login(options: LoginOptions): void;
  checkSession(options: CheckSessionOptions): void;
  /** A promise, as from base library 2.10.2 on when no callback is given. */
  getWeRunData(): Promise<WeRunData>;
  request(options: RequestOptions): { abort(): void };
  getStorageSync(key: string): unknown;
  setStorageSync(key: string, value: unknown): void;
  removeStorageSync(key: string): void;
  getStorage(options: {
    key: string;
    success?: Callback<{ data: unknown }>;
    fail?: Callback<{ errMsg: string }>;
  }): void;
  setStorage(options: { key: string; data: unknown; success?: Callback<unknown> }): void;
  removeStorage(options: { key: string; success?: Callback<unknown> }): void;
  clearStorageSync(): void;
}

/**
 * What WeChat knows of the user, which outlives a restart of the mini program: the code of the
 * latest `wx.login`, whose session_key is the current one.
 */
export interface WeChatUser {
  latestCode?: string;
  /** Whether WeChat let that session_key expire (checkSession fails until the next wx.login). */
  expired?: boolean;
}

export interface StandIn {
  readonly wx: WxRuntime;
  /** The storage, shared with a stand-in made from it: that is a restart of the mini program. */
  readonly storage: Map<string, string>;
  /** WeChat's side, shared with a stand-in made from it. */
  readonly user: WeChatUser;
  /** The wx functions called, in order: `login`, `checkSession`, `request`, `getWeRunData`. */
  readonly calls: string[];
  /** The daily steps `wx.getWeRunData` encrypts, oldest first. */
  readonly steps: number[];
  /** Makes the next `wx.getWeRunData` calls fail with this errMsg (undefined: succeed again). */
  failWeRun(errMsg: string | undefined): void;
  /** Codes `wx.login` hands out next; when empty it makes fresh ones. */
  readonly codes: string[];
  /** Every code `wx.login` handed out. */
  readonly issuedCodes: string[];
  readonly sent: SentRequest[];
  /** Makes the next `wx.login` calls fail, as when the user's WeChat is offline. */
  failLogins(errMsg: string): void;
}

export function standInWx(storage = new Map<string, string>(), user: WeChatUser = {}): StandIn {
  const codes: string[] = [];
  const issuedCodes: string[] = [];
  const sent: SentRequest[] = [];
  const calls: string[] = [];
  const steps = [5012, 6480, 8123];
  let loginFailure: string | undefined;
  let weRunFailure: string | undefined;
  let answers = 0;
  const later = (fn: () => void) => setTimeout(fn, 0);

  const wx: WxRuntime = {
    login(options) {
      calls.push('login');
      later(() => {
        if (loginFailure) {
          options.fail?.({ errMsg: `login:fail ${loginFailure}` });
        } else {
          const code = codes.shift() ?? `stand-in-${randomBytes(12).toString('hex')}`;
          issuedCodes.push(code);
          user.latestCode = code;
          user.expired = false;
          options.success?.({ code, errMsg: 'login:ok' });
        }
        options.complete?.({});
      });
    },

    checkSession(options) {
      calls.push('checkSession');
      later(() => {
        if (user.latestCode === undefined || user.expired) {
          options.fail?.({ errMsg: 'checkSession:fail session time out, need relogin' });
        } else {
          options.success?.({ errMsg: 'checkSession:ok' });
        }
      });
    },

    getWeRunData() {
      calls.push('getWeRunData');
      // Encrypted now, with the session_key WeChat holds now.
      const day = 86_400;
      const today = Math.floor(Date.now() / 1000 / day) * day;
      const data = {
        stepInfoList: steps.map((step, i) => ({
          timestamp: today - (steps.length - 1 - i) * day,
          step,
        })),
        watermark: { appid: APP_ID, timestamp: Math.floor(Date.now() / 1000) },
      };
      const sealed = seal(sessionKeyOf(user.latestCode ?? ''), data);
      const failure = weRunFailure;
      return new Promise((resolve, reject) =>
        later(() =>
          failure
            ? reject({ errMsg: `getWeRunData:fail ${failure}` })
            : resolve({ errMsg: 'getWeRunData:ok', ...sealed, cloudID: 'stand-in-cloud-id' }),
        ),
      );
    },

    request(options) {
      calls.push('request');
      const method = (options.method ?? 'GET').toUpperCase();
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      for (const [name, value] of Object.entries(options.header ?? {})) {
        headers[name.toLowerCase()] = String(value);
      }
      // The runtime sets the Referer itself; a page cannot.
      headers.referer = `https://servicewechat.com/${APP_ID}/devtools/page-frame.html`;
      let url = options.url;
      let body = '';
      if (method === 'GET' && options.data && typeof options.data === 'object') {
        const query = new URLSearchParams(options.data as Record<string, string>).toString();
        if (query) url += (url.includes('?') ? '&' : '?') + query;
      } else if (typeof options.data === 'string') {
        body = options.data;
      } else if (options.data !== undefined) {
        body = JSON.stringify(options.data);
      }
      sent.push({ method, url, headers: { ...headers }, body });

      const done = (call: () => void) =>
        later(() => {
          call();
          options.complete?.({});
        });
      const request = http.request(url, { method, headers, timeout: options.timeout ?? 60_000 });
      request.on('timeout', () => request.destroy(new Error('timeout')));
      request.on('error', (error: NodeJS.ErrnoException) =>
        done(() =>
          options.fail?.({ errMsg: `request:fail ${error.code ?? error.message}`, errno: 600001 }),
        ),
      );
      request.on('response', (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const header = varyCase(response.headers, answers++);
          let data: unknown = text;
          if (
            (options.dataType ?? 'json') === 'json' &&
            /^application\/json\b/i.test(response.headers['content-type'] ?? '')
          ) {
            try {
              data = JSON.parse(text);
            } catch {}
          }
          done(() => options.success?.({ statusCode: response.statusCode ?? 0, data, header }));
        });
      });
      request.end(body);
      return { abort: () => request.destroy(new Error('abort')) };
    },

    getStorageSync: (key) => {
      const value = storage.get(key);
      return value === undefined ? '' : JSON.parse(value);
    },
    setStorageSync: (key, value) => {
      storage.set(key, JSON.stringify(value));
    },
    removeStorageSync: (key) => {
      storage.delete(key);
    },
    getStorage: ({ key, success, fail }) =>
      later(() => {
        const value = storage.get(key);
        if (value === undefined) fail?.({ errMsg: 'getStorage:fail data not found' });
        else success?.({ data: JSON.parse(value) });
      }),
    setStorage: ({ key, data, success }) =>
      later(() => {
        storage.set(key, JSON.stringify(data));
        success?.({});
      }),
    removeStorage: ({ key, success }) =>
      later(() => {
        storage.delete(key);
        success?.({});
      }),
    clearStorageSync: () => storage.clear(),
  };

  return {
    wx,
    storage,
    user,
    calls,
    steps,
    codes,
    issuedCodes,
    sent,
    failLogins: (errMsg) => {
      loginFailure = errMsg;
    },
    failWeRun: (errMsg) => {
      weRunFailure = errMsg;
    },
  };
}

/**
 * The session_key WeChat hands the backend for a login code (16 bytes, base64), standing in
 * for WeChat's own: the same code always gives the same key, another code another key.
 */
export function sessionKeyOf(code: string): string {
  return createHash('sha256')
    .update(`session_key:${code}`)
    .digest()
    .subarray(0, 16)
    .toString('base64');
}

/** Open data as WeChat encrypts it: AES-128-CBC, PKCS#7, key and iv base64. */
function seal(sessionKey: string, data: unknown): { encryptedData: string; iv: string } {
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-128-cbc', Buffer.from(sessionKey, 'base64'), iv);
  const encrypted = Buffer.concat([cipher.update(JSON.stringify(data), 'utf8'), cipher.final()]);
  return { encryptedData: encrypted.toString('base64'), iv: iv.toString('base64') };
}

/** Header names as the runtime hands them over: Title-Case, UPPER or lower, by turns. */
function varyCase(headers: http.IncomingHttpHeaders, turn: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const cased = [
      name.replace(
        /(^|-)([a-z])/g,
        (_, dash: string, letter: string) => dash + letter.toUpperCase(),
      ),
      name.toUpperCase(),
      name,
    ][turn % 3] as string;
    out[cased] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** Requests the stand-in sent to a path, e.g. the logins: `sentTo(standIn, 'POST', '/openid')`. */
export function sentTo(standIn: StandIn, method: string, path: string): SentRequest[] {
  return standIn.sent.filter((r) => r.method === method && new URL(r.url).pathname === path);
}
