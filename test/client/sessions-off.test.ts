import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClientError, createClient } from '../support/client.ts';
import { type Sandbox, startSandbox } from '../support/local-server.ts';
import { APP_ID, standInWx } from '../support/wx-runtime.ts';

// The local server in real mode with no SESSION_KEY_ID: sessions are off, and a login answers
// the openid alone. WeChat's code2Session is a stand-in on loopback.
let wechat: http.Server;
let server: Sandbox;
beforeAll(async () => {
  wechat = http.createServer((_req, res) => {
    res
      .writeHead(200, { 'content-type': 'text/plain' })
      .end('{"openid":"oSessionsOff0000000000000000","session_key":"c2Vzc2lvbmtleQ=="}');
  });
  await new Promise<void>((resolve) => wechat.listen(0, '127.0.0.1', resolve));
  const { port } = wechat.address() as AddressInfo;
  server = await startSandbox({
    WECHAT_APP_ID: APP_ID,
    WECHAT_APP_SECRET: 'client-test-app-secret',
    WECHAT_API_BASE_URL: `http://127.0.0.1:${port}`,
    SESSION_KEY_ID: '',
  });
}, 30_000);
afterAll(async () => {
  await server?.stop();
  await new Promise<void>((resolve) => wechat?.close(() => resolve()));
});

describe('a backend with sessions off', () => {
  it('makes login() reject sessions_off, saying why, and stores nothing', async () => {
    const standIn = standInWx();
    const client = createClient({ baseUrl: server.baseUrl, wx: standIn.wx });

    const error = (await client.login().catch((e: unknown) => e)) as ClientError;

    expect(error).toMatchObject({ code: 'sessions_off', status: 200 });
    expect(error.detail).toMatch(/no session token/);
    expect(standIn.issuedCodes).toHaveLength(1);
    expect(standIn.storage.size).toBe(0);
  });
});
