import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { login } from '../routes/login.ts';
import { type ApiEvent, routeKey as keyOf } from '../routes/route.ts';

/** Bodies are read up to this size; anything larger is answered 413 by the handler anyway. */
const READ_LIMIT = 64 * 1024;
const TEXT_TYPES = /^(text\/|application\/(json|[\w.+-]*\+json|x-www-form-urlencoded|xml)\b)/i;

/** API Gateway's request ids look like this: 14 base64 characters and `=`. */
export function newRequestId(): string {
  return `${randomBytes(10).toString('base64').slice(0, 14)}=`;
}

/** Reads a body, keeping at most READ_LIMIT + 1 bytes so that a huge upload costs no memory. */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    if (size > READ_LIMIT) continue;
    chunks.push(chunk);
    size += chunk.length;
  }
  return Buffer.concat(chunks).subarray(0, READ_LIMIT + 1);
}

/**
 * The event API Gateway (HTTP API, payload 2.0) would send for this request. Like API
 * Gateway, bodies of non-text content types arrive base64-encoded.
 */
export function toEvent(
  req: IncomingMessage,
  body: Buffer,
  requestId: string,
  routeKey = keyOf(login),
  claims?: Record<string, string>,
): ApiEvent {
  const url = new URL(req.url ?? '/', 'http://localhost');
  // API Gateway joins repeated headers with commas. Node keeps only the first of some
  // (Referer, Authorization, Host…), so read every value.
  const headers: Record<string, string> = {};
  for (const [name, values] of Object.entries(req.headersDistinct)) {
    if (values !== undefined) headers[name] = values.join(',');
  }
  const binary = body.length > 0 && !TEXT_TYPES.test(headers['content-type'] ?? 'application/json');
  const now = new Date();
  return {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'localhost',
      http: {
        method: req.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey,
      ...(claims && { authorizer: { jwt: { claims } } }),
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length > 0 && { body: body.toString(binary ? 'base64' : 'utf8') }),
    isBase64Encoded: binary,
  };
}

/** Writes a Lambda result as API Gateway would, with its `apigw-requestid` header. */
export function writeResult(
  res: ServerResponse,
  result: APIGatewayProxyStructuredResultV2,
  requestId: string,
): void {
  const headers: Record<string, string> = { 'apigw-requestid': requestId };
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
  const body = result.isBase64Encoded
    ? Buffer.from(result.body ?? '', 'base64')
    : Buffer.from(result.body ?? '');
  headers['content-length'] = String(body.length);
  res.writeHead(result.statusCode ?? 200, headers).end(body);
}
