import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../functions/adapters/log.ts';
import { loadConfig } from '../../functions/config.ts';
import { type LocalServer, startLocalServer } from '../../functions/local/server.ts';
import { rememberToken } from '../support/leak-guard.ts';

/** The sandbox's local server, in this process, with every log line captured. */
let server: LocalServer;
let base: string;
const written: string[] = [];
const lines = () => written.map((line) => JSON.parse(line) as Record<string, unknown>);
let codes = 0;

beforeAll(async () => {
  const log = createLogger({}, (line) => {
    process.stdout.write(`${line}\n`);
    written.push(line);
  });
  server = await startLocalServer(loadConfig({ PORT: '0' }), log, '127.0.0.1');
  base = server.url.origin;
});
afterAll(() => server.close());

async function token(): Promise<string> {
  const answer = await fetch(`${base}/openid`, {
    method: 'POST',
    body: JSON.stringify({ code: `refusals-${++codes}` }),
  });
  const value = String(((await answer.json()) as { token?: unknown }).token);
  rememberToken(value);
  return value;
}

/** GET /me with this Authorization header; the log line that says why it was refused. */
async function refused(authorization?: string) {
  written.length = 0;
  const answer = await fetch(`${base}/me`, {
    ...(authorization !== undefined && { headers: { authorization } }),
  });
  const line = lines().find((entry) => entry.route === 'GET /me');
  return { status: answer.status, line, text: written.join('\n') };
}

describe('the local authorizer stand-in', () => {
  it('accepts the canonical spelling of a genuine token', async () => {
    const answer = await fetch(`${base}/me`, {
      headers: { authorization: `Bearer ${await token()}` },
    });
    expect(answer.status).toBe(200);
  });

  it.each([
    ['with "==" padding after the signature', (sig: string) => `${sig}==`],
    [
      'with the unused low bits of its last character changed',
      (sig: string) => {
        // 256 bytes are 342 base64url characters and 4 unused bits: flip the lowest one.
        const last = sig.at(-1) ?? 'A';
        const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
        return sig.slice(0, -1) + alphabet[alphabet.indexOf(last) ^ 1];
      },
    ],
  ])('refuses a genuine signature spelled %s, and logs why', async (_what, respell) => {
    // Prepare
    const [header, payload, signature] = (await token()).split('.');

    // Act
    const result = await refused(`Bearer ${header}.${payload}.${respell(String(signature))}`);

    // Assess
    expect(result.status).toBe(401);
    expect(result.line).toMatchObject({ outcome: 'unauthorized', status: 401 });
    expect(String(result.line?.reason)).toMatch(/canonical base64url/);
    expect(result.text).not.toContain(String(signature).slice(0, 40));
  });

  it.each([
    ['no Authorization header', undefined, /no Authorization header/],
    ['a header that is not Bearer', 'Basic dXNlcjpwYXNz', /not "Bearer <token>"/],
    ['a token of two parts', 'Bearer abc.def', /three canonical base64url parts/],
  ])('logs one line with its reason for %s', async (_what, authorization, reason) => {
    const result = await refused(authorization);

    expect(result.status).toBe(401);
    expect(lines().filter((entry) => entry.route === 'GET /me')).toHaveLength(1);
    expect(String(result.line?.reason)).toMatch(reason);
  });

  it('logs a tampered payload as a signature that does not verify, never the token', async () => {
    // Prepare: the same signature over claims naming someone else.
    const [header, payload, signature] = (await token()).split('.');
    const claims = JSON.parse(Buffer.from(String(payload), 'base64url').toString()) as Record<
      string,
      unknown
    >;
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: 'oSomeoneElse' })).toString(
      'base64url',
    );

    // Act
    const result = await refused(`Bearer ${header}.${forged}.${signature}`);

    // Assess
    expect(result.status).toBe(401);
    expect(String(result.line?.reason)).toMatch(/signature does not verify/);
    expect(result.text).not.toContain(forged.slice(0, 30));
    expect(result.text).not.toContain(String(signature).slice(0, 30));
  });

  it('logs a kid that is not in the JWKS as such', async () => {
    // Prepare: a genuine token whose header names another key.
    const [, payload, signature] = (await token()).split('.');
    const header = Buffer.from(
      JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: 'another-key' }),
    ).toString('base64url');

    // Act
    const result = await refused(`Bearer ${header}.${payload}.${signature}`);

    // Assess
    expect(result.status).toBe(401);
    expect(String(result.line?.reason)).toMatch(/kid is not in the JWKS/);
  });
});

describe('the local server log', () => {
  it('writes one line for a path that does not exist, and one for a wrong method', async () => {
    // Act
    written.length = 0;
    const missing = await fetch(`${base}/nothing-here`);
    const wrong = await fetch(`${base}/openid`, { method: 'PUT' });

    // Assess
    expect(missing.status).toBe(404);
    expect(wrong.status).toBe(405);
    expect(lines()).toEqual([
      expect.objectContaining({ route: 'GET /nothing-here', outcome: 'not_found', status: 404 }),
      expect.objectContaining({ route: 'PUT /openid', outcome: 'method_not_allowed', status: 405 }),
    ]);
  });

  it('logs a body appid only when it has an AppID shape, and says the request named none otherwise', async () => {
    // Prepare: a string of the alphabet a request may use, shaped like a JWS header.
    const appid = 'eyJhbGciOiJSUzI1NiJ9';
    written.length = 0;

    // Act
    const answer = await fetch(`${base}/openid`, {
      method: 'POST',
      body: JSON.stringify({ code: `refusals-${++codes}`, appid }),
    });
    const shaped = await fetch(`${base}/openid`, {
      method: 'POST',
      body: JSON.stringify({ code: `refusals-${++codes}`, appid: 'wx4f4bc4dec97d474b' }),
    });

    // Assess
    expect(answer.status).toBe(200);
    expect(shaped.status).toBe(200);
    rememberToken(String(((await answer.json()) as { token: string }).token));
    rememberToken(String(((await shaped.json()) as { token: string }).token));
    expect(written.join('\n')).not.toContain(appid);
    expect(lines()[0]?.appId).toMatch(/^none/);
    expect(lines()[1]?.appId).toBe('wx4f4bc4dec97d474b');
  });
});
