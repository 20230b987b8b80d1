import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClientError, createClient } from '../support/client.ts';
import { type Sandbox, startSandbox } from '../support/local-server.ts';
import { APP_ID, type StandIn, sentTo, standInWx } from '../support/wx-runtime.ts';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox();
}, 30_000);
afterAll(() => sandbox?.stop());

const setup = (trustedUrls: string[] = []) => {
  const standIn = standInWx();
  const client = createClient({ baseUrl: sandbox.baseUrl, wx: standIn.wx, trustedUrls });
  return { standIn, client, logins: () => sentTo(standIn, 'POST', '/openid') };
};

interface Me {
  readonly openid: string;
  readonly appid: string;
  readonly expiresAt: number;
}

/** Replaces the stored session's token, as if it had been revoked or signed by a retired key. */
function spoilStoredToken(standIn: StandIn): string {
  const [key, value] = [...standIn.storage.entries()][0] as [string, string];
  const stored = JSON.parse(value) as { token: string };
  const [header, claims] = stored.token.split('.');
  const spoiled = `${header}.${claims}.${'A'.repeat(342)}`;
  standIn.storage.set(key, JSON.stringify({ ...stored, token: spoiled }));
  return spoiled;
}

describe('request()', () => {
  it('logs in first, then calls GET /me (relative to baseUrl) with the Bearer token', async () => {
    const { standIn, client } = setup();

    const response = await client.request<Me>({ url: '/me' });

    expect(response.statusCode).toBe(200);
    const session = await client.login();
    expect(response.data).toMatchObject({ openid: session.openid, appid: APP_ID });
    expect(response.data.expiresAt).toBeGreaterThanOrEqual(session.expiresAt);
    expect(sentTo(standIn, 'GET', '/me')[0]?.headers.authorization).toBe(`Bearer ${session.token}`);
  });

  it('hands back header names in lower case, whatever case the runtime used', async () => {
    const { client } = setup();

    const response = await client.request({ url: 'me', method: 'GET' });

    expect(response.header['content-type']).toMatch(/^application\/json/);
    expect(response.header['cache-control']).toBe('no-store');
  });

  it('shares one login among ten concurrent requests', async () => {
    const { standIn, client, logins } = setup();

    const responses = await Promise.all(
      Array.from({ length: 10 }, () => client.request<Me>({ url: '/me' })),
    );

    expect(responses.map((r) => r.statusCode)).toEqual(Array(10).fill(200));
    expect(new Set(responses.map((r) => r.data.openid)).size).toBe(1);
    expect(standIn.issuedCodes).toHaveLength(1);
    expect(logins()).toHaveLength(1);
  });

  it('replaces its own Authorization header for a caller-supplied one in any case', async () => {
    const { standIn, client } = setup();

    const response = await client.request({ url: '/me', header: { AUTHORIZATION: 'Bearer x' } });

    expect(response.statusCode).toBe(200);
    const sent = sentTo(standIn, 'GET', '/me')[0];
    expect(sent?.headers.authorization).toMatch(/^Bearer ey/);
  });

  it('on a 401 logs in again once and repeats the request once', async () => {
    const { standIn, logins, client: before } = setup();
    await before.login();
    const spoiled = spoilStoredToken(standIn);
    const client = createClient({ baseUrl: sandbox.baseUrl, wx: standIn.wx });

    const response = await client.request<Me>({ url: '/me' });

    expect(response.statusCode).toBe(200);
    const calls = sentTo(standIn, 'GET', '/me');
    expect(calls).toHaveLength(2);
    expect(calls[0]?.headers.authorization).toBe(`Bearer ${spoiled}`);
    expect(calls[1]?.headers.authorization).not.toBe(`Bearer ${spoiled}`);
    expect(logins()).toHaveLength(2);
  });

  it('renews once for concurrent requests that all got a 401 with the same token', async () => {
    const first = setup();
    await first.client.login();
    spoilStoredToken(first.standIn);
    const client = createClient({ baseUrl: sandbox.baseUrl, wx: first.standIn.wx });

    const responses = await Promise.all(
      Array.from({ length: 5 }, () => client.request({ url: '/me' })),
    );

    expect(responses.map((r) => r.statusCode)).toEqual(Array(5).fill(200));
    expect(first.logins()).toHaveLength(2);
  });

  it('surfaces a second 401 instead of looping, after one re-login and one retry', async () => {
    // An API of the operator's whose authorizer refuses this app's tokens (its AppID is not
    // among the authorizer's audiences): every token gets a 401.
    let calls = 0;
    const refusing = http.createServer((_req, res) => {
      calls++;
      res
        .writeHead(401, {
          'content-type': 'application/json',
          'www-authenticate': 'Bearer error="invalid_token"',
          'apigw-requestid': `refused-${calls}`,
        })
        .end('{"message":"Unauthorized"}');
    });
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
    const { port } = refusing.address() as AddressInfo;
    const { client, logins } = setup([`http://127.0.0.1:${port}`]);

    try {
      const error = (await client
        .request({ url: `http://127.0.0.1:${port}/orders` })
        .catch((e: unknown) => e)) as ClientError;

      expect(error).toMatchObject({ code: 'unauthorized', status: 401, requestId: 'refused-2' });
      expect(calls).toBe(2);
      expect(logins()).toHaveLength(2);
    } finally {
      await new Promise<void>((resolve) => refusing.close(() => resolve()));
    }
  });

  it('resolves other statuses as they are, with problem+json parsed from a string', async () => {
    const { client } = setup();

    const response = await client.request<{ code: string }>({ url: '/nowhere' });

    expect(response.statusCode).toBe(404);
    expect(response.data.code).toBe('not_found');
  });

  it('refuses to send the token to an absolute URL outside baseUrl and trustedUrls, sending nothing', async () => {
    // Prepare
    const { standIn, client } = setup();

    // Act
    const error = (await client
      .request({ url: 'https://cdn.example.com/picture.png' })
      .catch((e: unknown) => e)) as ClientError;
    const lookalike = (await client
      .request({ url: `${sandbox.baseUrl}.evil.example/me` })
      .catch((e: unknown) => e)) as ClientError;

    // Assess
    expect(error).toMatchObject({ code: 'untrusted_url', status: 0 });
    expect(error.detail).toContain('https://cdn.example.com');
    expect(lookalike).toMatchObject({ code: 'untrusted_url' });
    expect(standIn.sent).toHaveLength(0);
    expect(standIn.issuedCodes).toHaveLength(0);
  });

  it('signs requests to an API named in trustedUrls, and to absolute URLs under baseUrl', async () => {
    // Prepare: the same server under a second name stands in for another API of the operator's.
    const other = sandbox.baseUrl.replace('localhost', '127.0.0.1');
    const standIn = standInWx();
    const client = createClient({ baseUrl: sandbox.baseUrl, wx: standIn.wx, trustedUrls: [other] });

    // Act
    const viaTrusted = await client.request<Me>({ url: `${other}/me` });
    const viaAbsolute = await client.request<Me>({ url: `${sandbox.baseUrl}/me` });

    // Assess
    expect(viaTrusted.statusCode).toBe(200);
    expect(viaAbsolute.statusCode).toBe(200);
  });

  describe("reads the caller's options once, when it is called", () => {
    /** Another host, listening, that records every request that reaches it. */
    async function elsewhere() {
      const reached: http.IncomingHttpHeaders[] = [];
      const server = http.createServer((req, res) => {
        reached.push(req.headers);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      return {
        url: `http://127.0.0.1:${port}/x`,
        reached,
        close: () => new Promise<void>((resolve) => server.close(() => resolve())),
      };
    }

    it('sends the token where the URL pointed at the call, when the caller changes it afterwards', async () => {
      // Prepare
      const evil = await elsewhere();
      const { standIn, client } = setup();
      const options = { url: '/me' };

      try {
        // Act
        const pending = client.request<Me>(options);
        options.url = evil.url;
        const response = await pending;

        // Assess
        expect(evil.reached).toHaveLength(0);
        expect(standIn.sent.map((r) => new URL(r.url).origin)).not.toContain(
          new URL(evil.url).origin,
        );
        expect(response.statusCode).toBe(200);
        expect(response.data.appid).toBe(APP_ID);
      } finally {
        await evil.close();
      }
    });

    it('sends the token where a getter on url pointed when it was checked', async () => {
      // Prepare: /me at the first read, elsewhere at every later one.
      const evil = await elsewhere();
      const { standIn, client } = setup();
      let reads = 0;
      const options = {
        get url() {
          return reads++ === 0 ? '/me' : evil.url;
        },
      };

      try {
        // Act
        const response = await client.request(options);

        // Assess
        expect(evil.reached).toHaveLength(0);
        expect(response.statusCode).toBe(200);
        expect(sentTo(standIn, 'GET', '/me')).toHaveLength(1);
        expect(reads).toBe(1);
      } finally {
        await evil.close();
      }
    });

    it('repeats a request refused with a 401 to the URL it checked, whatever a getter says by then', async () => {
      // Prepare: a stored session whose token is refused, so that the request is repeated; the
      // getter says /me for as many reads as the first send takes, then elsewhere.
      const evil = await elsewhere();
      const { standIn, client: before } = setup();
      await before.login();
      spoilStoredToken(standIn);
      const client = createClient({ baseUrl: sandbox.baseUrl, wx: standIn.wx });
      let reads = 0;
      const options = {
        get url() {
          return reads++ < 3 ? '/me' : evil.url;
        },
      };

      try {
        // Act
        const response = await client.request(options);

        // Assess
        expect(evil.reached).toHaveLength(0);
        expect(response.statusCode).toBe(200);
        expect(sentTo(standIn, 'GET', '/me')).toHaveLength(2);
        expect(reads).toBe(1);
      } finally {
        await evil.close();
      }
    });

    it('keeps the headers as they were at the call', async () => {
      // Prepare
      const { standIn, client } = setup();
      const header: Record<string, string> = { 'x-trace': 'at-call' };

      // Act
      const pending = client.request({ url: '/me', header });
      header['x-trace'] = 'changed';
      await pending;

      // Assess
      expect(sentTo(standIn, 'GET', '/me')[0]?.headers['x-trace']).toBe('at-call');
    });
  });

  it('rejects with the login failure when it cannot log in', async () => {
    const { standIn, client } = setup();
    standIn.codes.push('sandbox-user-blocked');

    const error = (await client.request({ url: '/me' }).catch((e: unknown) => e)) as ClientError;

    expect(error.code).toBe('user_blocked');
    expect(sentTo(standIn, 'GET', '/me')).toHaveLength(0);
  });
});
