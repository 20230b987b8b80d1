import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../functions/adapters/log.ts';
import { loadConfig } from '../../functions/config.ts';
import { type LocalServer, startLocalServer } from '../../functions/local/server.ts';
import { APP_ID, referer } from '../../harness/fixtures.ts';
import { rememberToken } from '../support/leak-guard.ts';
import { encrypt, newSessionKey, weRunData } from '../support/open-data-rig.ts';

/**
 * The sandbox (npm start with no credentials) serves POST /open-data, but the devtools' data is
 * encrypted by WeChat with a session_key the sandbox never saw: it says so, and what to run.
 */
let server: LocalServer;

beforeAll(async () => {
  server = await startLocalServer(
    loadConfig({ PORT: '0' }),
    createLogger({}, (line) => process.stdout.write(`${line}\n`)),
    '127.0.0.1',
  );
});
afterAll(() => server?.close());

async function token(code: string): Promise<string> {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', referer: referer(APP_ID) },
    body: JSON.stringify({ code }),
  });
  const { token } = (await response.json()) as { token: string };
  rememberToken(token);
  return token;
}

const openData = (bearer: string | undefined, body: unknown) =>
  fetch(new URL('/open-data', server.url), {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(bearer !== undefined && { authorization: `Bearer ${bearer}` }),
    },
    body: JSON.stringify(body),
  });

describe('POST /open-data in the sandbox', () => {
  it('is on, and answers session_key_stale saying that open data needs a local run against the real WeChat', async () => {
    // Prepare: data as the devtools would hand it, under a session_key the sandbox never saw.
    expect(server.mode).toBe('sandbox');
    const bearer = await token('sandbox-open-data-1');

    // Act
    const response = await openData(bearer, encrypt(newSessionKey(), weRunData()));

    // Assess
    expect(response.status).toBe(409);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    const body = (await response.json()) as { code: string; detail: string };
    expect(body.code).toBe('session_key_stale');
    expect(body.detail).toMatch(/needs a local run against the real WeChat/);
    expect(body.detail).toMatch(/OPEN_DATA_KEY_ID/);
  });

  it('still checks the request first: a malformed iv is invalid_request, no token is unauthorized', async () => {
    // Prepare
    const bearer = await token('sandbox-open-data-2');
    const data = encrypt(newSessionKey(), weRunData());

    // Act
    const malformed = await openData(bearer, { ...data, iv: 'AAAA' });
    const anonymous = await openData(undefined, data);

    // Assess
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ code: 'invalid_request' });
    expect(anonymous.status).toBe(401);
  });
});
