import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseJsonObject } from '../functions/commons/json.ts';
import { ACCESS_TOKEN, APP_ID, OPENID, SESSION_KEY } from './fixtures.ts';

/** How the fake answers one call. */
export type Reply =
  | { kind: 'json'; body: unknown; status?: number; contentType?: string }
  | { kind: 'raw'; body: string; status?: number; contentType?: string }
  | { kind: 'hang' }
  | { kind: 'reset' }
  | { kind: 'delay'; ms: number; reply: Reply };

/** One call the fake received. */
export interface Call {
  readonly appid: string | null;
  readonly secret: string | null;
  readonly jsCode: string | null;
  readonly grantType: string | null;
  readonly path: string;
  /** The `access_token` query parameter, on the calls that carry one. */
  readonly accessToken?: string;
  /** The JSON body of a POST (`undefined` when it had none or it was not JSON). */
  readonly body?: Record<string, unknown>;
}

/** WeChat's paths that answer by default with a success of their own (see `forPath`). */
export const STABLE_TOKEN_PATH = '/cgi-bin/stable_token';
export const PHONE_PATH = '/wxa/business/getuserphonenumber';

export interface FakeWechat {
  readonly url: string;
  readonly calls: Call[];
  /**
   * Answers the next calls with these replies in turn; after them, with `fallback`. Calls to a
   * path with a script or a fallback of its own (`forPath`) do not take from this script.
   */
  script(...replies: Reply[]): void;
  /** The reply for every call once the script is used up. */
  fallback: Reply;
  /**
   * Answers the next calls to `path` (e.g. STABLE_TOKEN_PATH) with these replies in turn, and
   * then with `fallback` if given, else with that path's default: `stable_token` answers
   * `{access_token: ACCESS_TOKEN, expires_in: 7200}`, `getuserphonenumber` the fixtures'
   * number with a watermark of APP_ID. A path with a prefix in front of it matches too.
   */
  forPath(path: string, replies: readonly Reply[], fallback?: Reply): void;
  /** The calls made to `path` (matched as in `forPath`). */
  callsTo(path: string): Call[];
  reset(): void;
  close(): Promise<void>;
}

export const ok = (openid = OPENID, extra: Record<string, unknown> = {}): Reply => ({
  kind: 'json',
  body: { openid, session_key: SESSION_KEY, ...extra },
});
export const errcode = (code: number | string, errmsg = 'error'): Reply => ({
  kind: 'json',
  body: { errcode: code, errmsg },
});
/** A `stable_token` success. */
export const accessToken = (token = ACCESS_TOKEN, expiresIn = 7200): Reply => ({
  kind: 'json',
  body: { access_token: token, expires_in: expiresIn },
});
/** A `getuserphonenumber` success, as WeChat answers it. */
export const phoneInfo = (
  options: {
    purePhoneNumber?: string;
    countryCode?: string;
    phoneNumber?: string;
    appid?: string;
  } = {},
): Reply => {
  const pure = options.purePhoneNumber ?? '13800138000';
  const country = options.countryCode ?? '86';
  return {
    kind: 'json',
    body: {
      errcode: 0,
      errmsg: 'ok',
      phone_info: {
        // WeChat's own phoneNumber carries the area code, without `+`, outside the mainland.
        phoneNumber: options.phoneNumber ?? (country === '86' ? pure : `${country}${pure}`),
        purePhoneNumber: pure,
        countryCode: country,
        watermark: { timestamp: 1637744274, appid: options.appid ?? APP_ID },
      },
    },
  };
};

/** What the paths with defaults answer when nothing else is scripted for them. */
const PATH_DEFAULTS: Readonly<Record<string, () => Reply>> = {
  [STABLE_TOKEN_PATH]: () => accessToken(),
  [PHONE_PATH]: () => phoneInfo(),
};

/**
 * A stand-in for api.weixin.qq.com on loopback that answers the way WeChat does:
 * JSON with `Content-Type: text/plain` unless a reply says otherwise. It is scripted per test
 * and records every call. The other stand-in, functions/local/sandbox-wechat.ts, serves
 * `npm start` instead: it has behaviour of its own (single-use codes, openids per AppID) and
 * no script, which is what a developer needs and what a test cannot steer.
 */
export async function startFakeWechat(): Promise<FakeWechat> {
  const queue: Reply[] = [];
  /** Per-path scripts and fallbacks, keyed by WeChat's path. */
  const paths = new Map<string, { queue: Reply[]; fallback: Reply }>();
  const defaults = () => {
    paths.clear();
    for (const [path, reply] of Object.entries(PATH_DEFAULTS))
      paths.set(path, { queue: [], fallback: reply() });
  };
  defaults();
  const pathOf = (pathname: string) =>
    [...paths.keys()].find((path) => pathname === path || pathname.endsWith(path));
  const open = new Set<import('node:net').Socket>();
  const fake: FakeWechat = {
    url: '',
    calls: [],
    fallback: ok(),
    script: (...replies) => {
      queue.push(...replies);
    },
    forPath: (path, replies, fallback) => {
      const entry = paths.get(path);
      const byDefault = PATH_DEFAULTS[path]?.();
      paths.set(path, {
        queue: [...(entry?.queue ?? []), ...replies],
        fallback: fallback ?? entry?.fallback ?? byDefault ?? fake.fallback,
      });
    },
    callsTo: (path) => fake.calls.filter((call) => call.path === path || call.path.endsWith(path)),
    reset: () => {
      queue.length = 0;
      fake.calls.length = 0;
      fake.fallback = ok();
      defaults();
    },
    close: async () => {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const token = url.searchParams.get('access_token');
    const body = req.method === 'POST' ? await readJson(req) : undefined;
    // Only the keys a call has: the login's calls are recorded exactly as they were before.
    fake.calls.push({
      appid: url.searchParams.get('appid'),
      secret: url.searchParams.get('secret'),
      jsCode: url.searchParams.get('js_code'),
      grantType: url.searchParams.get('grant_type'),
      path: url.pathname,
      ...(token !== null && { accessToken: token }),
      ...(body !== undefined && { body }),
    });
    const own = paths.get(pathOf(url.pathname) ?? '');
    const reply = own ? (own.queue.shift() ?? own.fallback) : (queue.shift() ?? fake.fallback);
    void answer(reply, req, res);
  });
  server.on('connection', (socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  (fake as { url: string }).url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}

/** A request's JSON object body; undefined when it has none or it is not one. */
async function readJson(req: http.IncomingMessage): Promise<Record<string, unknown> | undefined> {
  let text = '';
  for await (const chunk of req as AsyncIterable<Buffer>) text += chunk.toString('utf8');
  return parseJsonObject(text);
}

async function answer(
  reply: Reply,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<void> {
  switch (reply.kind) {
    case 'hang':
      return;
    case 'reset':
      req.socket.resetAndDestroy();
      return;
    case 'delay':
      await new Promise((resolve) => setTimeout(resolve, reply.ms));
      return answer(reply.reply, req, res);
    case 'json':
    case 'raw': {
      const body = reply.kind === 'json' ? JSON.stringify(reply.body) : reply.body;
      res.writeHead(reply.status ?? 200, { 'content-type': reply.contentType ?? 'text/plain' });
      res.end(body);
    }
  }
}
