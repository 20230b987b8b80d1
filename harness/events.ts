import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { login } from '../functions/routes/login.ts';
import { routeKey } from '../functions/routes/route.ts';

let counter = 0;

/**
 * A realistic API Gateway HTTP API (payload 2.0) event for POST /openid, as the cloud sends
 * it. functions/local/api-gateway.ts builds events too, but from a real HTTP request to the
 * local server (with its socket, its method and its path); tests and the bench have no
 * request, only a body and the headers they choose.
 */
export function loginEvent(
  body: string | undefined,
  options: { headers?: Record<string, string>; base64?: boolean; requestId?: string } = {},
): APIGatewayProxyEventV2 {
  const requestId = options.requestId ?? `req-${++counter}-${Date.now().toString(36)}=`;
  return {
    version: '2.0',
    routeKey: routeKey(login),
    rawPath: login.path,
    rawQueryString: '',
    headers: {
      'content-type': 'application/json',
      host: 'abc123.execute-api.ap-east-1.amazonaws.com',
      'user-agent': 'Mozilla/5.0 MicroMessenger/8.0.50',
      ...options.headers,
    },
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      domainName: 'abc123.execute-api.ap-east-1.amazonaws.com',
      domainPrefix: 'abc123',
      http: {
        method: 'POST',
        path: login.path,
        protocol: 'HTTP/1.1',
        sourceIp: '203.0.113.7',
        userAgent: 'Mozilla/5.0 MicroMessenger/8.0.50',
      },
      requestId,
      routeKey: routeKey(login),
      stage: '$default',
      time: '25/Nov/2026:10:00:00 +0000',
      timeEpoch: 1795600000000,
    },
    ...(body !== undefined && {
      body: options.base64 ? Buffer.from(body).toString('base64') : body,
    }),
    isBase64Encoded: options.base64 ?? false,
  };
}

/** The JSON body of a Lambda result. */
export function json(result: { body?: string }): Record<string, unknown> {
  return JSON.parse(result.body ?? 'null') as Record<string, unknown>;
}
