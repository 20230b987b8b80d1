import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { OPENID, SESSION_KEY } from './fixtures.ts';

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
}

export interface FakeWechat {
  readonly url: string;
  readonly calls: Call[];
  /** Answers the next calls with these replies in turn; after them, with `fallback`. */
  script(...replies: Reply[]): void;
  /** The reply for every call once the script is used up. */
  fallback: Reply;
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

/**
 * A stand-in for api.weixin.qq.com on loopback that answers the way WeChat does:
 * JSON with `Content-Type: text/plain` unless a reply says otherwise. It is scripted per test
 * and records every call. The other stand-in, functions/local/sandbox-wechat.ts, serves
 * `npm start` instead: it has behaviour of its own (single-use codes, openids per AppID) and
 * no script, which is what a developer needs and what a test cannot steer.
 */
export async function startFakeWechat(): Promise<FakeWechat> {
  const queue: Reply[] = [];
  const open = new Set<import('node:net').Socket>();
  const fake: FakeWechat = {
    url: '',
    calls: [],
    fallback: ok(),
    script: (...replies) => {
      queue.push(...replies);
    },
    reset: () => {
      queue.length = 0;
      fake.calls.length = 0;
      fake.fallback = ok();
    },
    close: async () => {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    fake.calls.push({
      appid: url.searchParams.get('appid'),
      secret: url.searchParams.get('secret'),
      jsCode: url.searchParams.get('js_code'),
      grantType: url.searchParams.get('grant_type'),
      path: url.pathname,
    });
    void answer(queue.shift() ?? fake.fallback, req, res);
  });
  server.on('connection', (socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  (fake as { url: string }).url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
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
