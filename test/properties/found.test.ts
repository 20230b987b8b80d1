/**
 * Defects the property tests found, each pinned to its smallest example so that it stays fixed.
 * (The properties in this folder find them again from any seed; these name them.)
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../functions/adapters/log.ts';
import { loadConfig } from '../../functions/config.ts';
import { type LocalServer, startLocalServer } from '../../functions/local/server.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

describe('the 16 KiB limit', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ env: { WECHAT_TIMEOUT_MS: '300' } });
  });
  afterAll(() => app.close());

  it('counts a base64-flagged body in bytes as received, even when it is not base64', async () => {
    // Prepare: 9,000 "é" are 18,000 bytes (over 16 KiB) but only 9,000 UTF-16 units.
    const { handler } = app;
    const event = {
      body: 'é'.repeat(9000),
      isBase64Encoded: true,
      routeKey: 'POST /openid',
      requestContext: { requestId: 'Found000000000=' },
    } as unknown as APIGatewayProxyEventV2;

    // Act
    const result = await handler(event);

    // Assess
    expect(Buffer.byteLength(event.body ?? '')).toBeGreaterThan(16 * 1024);
    expect(result.statusCode).toBe(413);
    expect(JSON.parse(result.body ?? '{}')).toMatchObject({ code: 'payload_too_large' });
  });
});

describe('the sandbox', () => {
  let server: LocalServer;
  beforeAll(async () => {
    server = await startLocalServer(
      loadConfig({ PORT: '0' }),
      createLogger({}, () => {}),
      '127.0.0.1',
    );
  });
  afterAll(() => server.close());

  it.each(['constructor', 'toString', '__proto__'])(
    'logs in the well-formed code %s, which is also an Object.prototype name',
    async (code) => {
      // Act
      const response = await fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ code }),
      });

      // Assess
      expect(response.status).toBe(200);
      expect(Object.keys((await response.json()) as object)).toEqual([
        'openid',
        'token',
        'expiresIn',
      ]);
    },
  );
});
