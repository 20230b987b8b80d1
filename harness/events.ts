import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { login } from '../functions/routes/login.ts';
import { type ApiEvent, type Route, routeKey } from '../functions/routes/route.ts';

let counter = 0;

export interface EventOptions {
  readonly headers?: Record<string, string>;
  readonly base64?: boolean;
  readonly requestId?: string;
  /**
   * The claims API Gateway's JWT authorizer passes on a protected route, every value a
   * string (`"exp": "1700000000"`); absent on a public route.
   */
  readonly claims?: Readonly<Record<string, string>>;
}

/**
 * A realistic API Gateway HTTP API (payload 2.0) event for one route, as the cloud sends it.
 * functions/local/api-gateway.ts builds events too, but from a real HTTP request to the local
 * server (with its socket, its method and its path); tests, the bench and the doctor have no
 * request, only a route, a body and the headers they choose.
 */
export function routeEvent(
  route: Pick<Route, 'method' | 'path'>,
  body: string | undefined,
  options: EventOptions = {},
): ApiEvent {
  const requestId = options.requestId ?? `req-${++counter}-${Date.now().toString(36)}=`;
  const userAgent = options.headers?.['user-agent'] ?? 'Mozilla/5.0 MicroMessenger/8.0.50';
  return {
    version: '2.0',
    routeKey: routeKey(route),
    rawPath: route.path,
    rawQueryString: '',
    headers: {
      'content-type': 'application/json',
      host: 'abc123.execute-api.ap-east-1.amazonaws.com',
      'user-agent': userAgent,
      ...options.headers,
    },
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      domainName: 'abc123.execute-api.ap-east-1.amazonaws.com',
      domainPrefix: 'abc123',
      http: {
        method: route.method,
        path: route.path,
        protocol: 'HTTP/1.1',
        sourceIp: '203.0.113.7',
        userAgent,
      },
      requestId,
      routeKey: routeKey(route),
      stage: '$default',
      time: '25/Nov/2026:10:00:00 +0000',
      timeEpoch: 1795600000000,
      ...(options.claims && { authorizer: { jwt: { claims: { ...options.claims } } } }),
    },
    ...(body !== undefined && {
      body: options.base64 ? Buffer.from(body).toString('base64') : body,
    }),
    isBase64Encoded: options.base64 ?? false,
  };
}

/** The event of POST /openid with this body. */
export function loginEvent(
  body: string | undefined,
  options: Omit<EventOptions, 'claims'> = {},
): APIGatewayProxyEventV2 {
  return routeEvent(login, body, options);
}

/** The JSON body of a Lambda result. */
export function json(result: { body?: string }): Record<string, unknown> {
  return JSON.parse(result.body ?? 'null') as Record<string, unknown>;
}
