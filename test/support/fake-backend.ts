/**
 * A small backend on loopback that answers the contract's users and open data routes with
 * their wire format (`POST /openid` with the phone fields, `POST /phone`, `DELETE /me`,
 * `POST /open-data`), so that the client's tests of them depend on nothing else. It keeps one
 * record per openid, like the real one: the bound number, and the session_key of the latest
 * code exchanged (the stand-in wx's, from `sessionKeyOf`), with which it decrypts open data.
 *
 * Given `upstream` (the real local server), it forwards every other route there, and the
 * logins too, reading from them the code and the token it then accepts.
 */
import { createDecipheriv } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { APP_ID, sessionKeyOf } from './wx-runtime.ts';

export const OPENID = 'oFakeBackendUser0000000000A1';
export const UNIONID = 'uFakeBackendUnion00000000000';
export const PHONE_NUMBER = '+8613800138000';

/** One request as the backend received it. */
export interface Received {
  readonly method: string;
  readonly path: string;
  readonly authorization: string | undefined;
  readonly body: Record<string, unknown>;
}

export interface Answer {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

interface UserRecord {
  /** The login code whose session_key is kept. */
  sessionKeyOf?: string;
  phoneNumber?: string;
  countryCode?: string;
}

export interface FakeBackend {
  readonly baseUrl: string;
  readonly received: Received[];
  readonly users: Map<string, UserRecord>;
  /** The next requests to `route` (`'POST /phone'`) get these answers, in order. */
  script(route: string, ...answers: Answer[]): void;
  /** What `route` received, e.g. `to('POST /open-data')`. */
  to(route: string): Received[];
  close(): Promise<void>;
}

/** A problem+json answer, as the backend words its failures. */
export function problem(
  status: number,
  code: string,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Answer {
  return {
    status,
    body: {
      type: 'about:blank',
      title: code,
      status,
      detail: `The fake backend says ${code}.`,
      code,
      ...extra,
    },
    headers: { 'content-type': 'application/problem+json', ...headers },
  };
}

export async function startFakeBackend(upstream?: string): Promise<FakeBackend> {
  const received: Received[] = [];
  const users = new Map<string, UserRecord>();
  const tokens = new Map<string, string>();
  const usedPhoneCodes = new Set<string>();
  const scripts = new Map<string, Answer[]>();
  let issued = 0;

  const issue = (openid: string) => {
    const token = `fake-token-${++issued}`;
    tokens.set(token, openid);
    return token;
  };
  const phoneOf = (record: UserRecord | undefined) =>
    record?.phoneNumber ? { phoneNumber: record.phoneNumber, countryCode: record.countryCode } : {};

  type Handler = (body: Record<string, unknown>, openid: string, token: string) => Answer;
  const routes: Record<string, Handler> = {
    'POST /phone': (body, openid, token) => {
      const { code } = body;
      if (typeof code !== 'string' || !/^[\w-]{1,128}$/.test(code))
        return problem(400, 'invalid_request');
      if (usedPhoneCodes.has(code)) return problem(400, 'invalid_phone_code', { errcode: 40029 });
      usedPhoneCodes.add(code);
      const record = users.get(openid) ?? {};
      Object.assign(record, { phoneNumber: PHONE_NUMBER, countryCode: '86' });
      users.set(openid, record);
      // Upstream's tokens are signed there: the caller's own stays the one upstream accepts.
      const next = upstream ? token : issue(openid);
      return { status: 200, body: { openid, ...phoneOf(record), token: next, expiresIn: 7200 } };
    },
    'DELETE /me': (_body, openid) => {
      users.delete(openid);
      return { status: 204 };
    },
    'POST /open-data': (body, openid) => {
      const { encryptedData, iv } = body;
      if (typeof encryptedData !== 'string' || typeof iv !== 'string')
        return problem(400, 'invalid_request');
      const code = users.get(openid)?.sessionKeyOf;
      const data = code === undefined ? undefined : open(sessionKeyOf(code), encryptedData, iv);
      if (data === undefined) return problem(409, 'session_key_stale');
      if ((data.watermark as { appid?: unknown } | undefined)?.appid !== APP_ID) {
        return problem(400, 'open_data_mismatch');
      }
      return { status: 200, body: { data } };
    },
  };

  /** A code beginning `with-unionid` logs in a user WeChat gave a unionid. */
  const ownLogin = (body: Record<string, unknown>): Answer => {
    const unionid = String(body.code).startsWith('with-unionid') ? { unionid: UNIONID } : {};
    return { status: 200, body: { openid: OPENID, ...unionid, expiresIn: 7200 } };
  };

  const login = (body: Record<string, unknown>, answer: Answer): Answer => {
    const { openid, token } = (answer.body ?? {}) as { openid?: string; token?: string };
    if (answer.status !== 200 || !openid) return answer;
    const record = users.get(openid) ?? {};
    record.sessionKeyOf = String(body.code);
    users.set(openid, record);
    if (token) tokens.set(token, openid);
    const issuedToken = token ?? issue(openid);
    return {
      status: 200,
      body: { ...(answer.body as object), token: issuedToken, ...phoneOf(record) },
    };
  };

  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: Record<string, unknown> = {};
    try {
      body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    } catch {}
    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    const route = `${req.method} ${path}`;
    const authorization = req.headers.authorization;
    received.push({ method: req.method ?? '', path, authorization, body });

    let answer: Answer;
    const scripted = scripts.get(route)?.shift();
    const handler = routes[route];
    if (scripted) {
      answer = scripted;
    } else if (route === 'POST /openid') {
      answer = login(body, upstream ? await forward(upstream, req, raw) : ownLogin(body));
    } else if (handler) {
      const token = /^Bearer (.+)$/.exec(authorization ?? '')?.[1] ?? '';
      const openid = tokens.get(token);
      answer = openid
        ? handler(body, openid, token)
        : problem(401, 'unauthorized', {}, { 'www-authenticate': 'Bearer error="invalid_token"' });
    } else if (upstream) {
      answer = await forward(upstream, req, raw);
    } else {
      answer = problem(404, 'not_found');
    }
    res.writeHead(answer.status, {
      'content-type': 'application/json',
      'cache-control': 'no-store',
      'apigw-requestid': `fake-${received.length}`,
      ...answer.headers,
    });
    res.end(answer.body === undefined ? undefined : JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    received,
    users,
    script: (route, ...answers) => scripts.set(route, [...(scripts.get(route) ?? []), ...answers]),
    to: (route) => received.filter((r) => `${r.method} ${r.path}` === route),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Decrypts as the backend does; undefined when the key is not the one the data was sealed with. */
function open(
  sessionKey: string,
  encryptedData: string,
  iv: string,
): Record<string, unknown> | undefined {
  try {
    const decipher = createDecipheriv(
      'aes-128-cbc',
      Buffer.from(sessionKey, 'base64'),
      Buffer.from(iv, 'base64'),
    );
    const text = Buffer.concat([
      decipher.update(Buffer.from(encryptedData, 'base64')),
      decipher.final(),
    ]);
    return JSON.parse(text.toString('utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** The request as it came, sent to `upstream`; its answer with the body parsed. */
async function forward(upstream: string, req: http.IncomingMessage, raw: string): Promise<Answer> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === 'string' && name !== 'host' && name !== 'content-length')
      headers[name] = value;
  }
  const response = await fetch(`${upstream}${req.url ?? '/'}`, {
    method: req.method ?? 'GET',
    headers,
    body: raw === '' ? undefined : raw,
  });
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = text === '' ? undefined : text;
  }
  const passed: Record<string, string> = {};
  for (const name of ['content-type', 'retry-after', 'www-authenticate', 'apigw-requestid']) {
    const value = response.headers.get(name);
    if (value !== null) passed[name] = value;
  }
  return { status: response.status, body, headers: passed };
}
