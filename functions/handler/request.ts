import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { LoginError } from '../domain/errors.ts';
import type { LoginRequest } from '../domain/login.ts';

/** Largest body accepted, counted as received (before base64 decoding). */
export const MAX_BODY_BYTES = 16 * 1024;

const CODE = /^[A-Za-z0-9_-]+$/;
const MAX_CODE_LENGTH = 128;
const APP_ID = /^[A-Za-z0-9_-]{1,64}$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
/** What wx.request sends: https://servicewechat.com/{appid}/{version}/page-frame.html */
const REFERER =
  /^https:\/\/servicewechat\.com\/([A-Za-z0-9_-]{1,64})\/[A-Za-z0-9._-]{1,64}\/page-frame\.html$/;

const USAGE = 'Send a JSON body {"code": "<the code from wx.login()>"}.';

/**
 * Turns an API Gateway v2 event into a login request, or throws `invalid_request`,
 * `payload_too_large` or `appid_mismatch`. Error details never quote the input.
 */
export function parseLoginRequest(event: APIGatewayProxyEventV2): LoginRequest {
  const body = decodeBody(event);
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw invalid(`The request body is not valid JSON. ${USAGE}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(`The request body must be a JSON object. ${USAGE}`);
  }
  const fields = value as Record<string, unknown>;
  const code = checkCode(Object.hasOwn(fields, 'code') ? fields.code : undefined);
  const appId =
    refererAppId(event.headers) ??
    bodyAppId(Object.hasOwn(fields, 'appid') ? fields.appid : undefined);
  return appId === undefined ? { code } : { code, appId };
}

function decodeBody(event: APIGatewayProxyEventV2): string {
  const raw = event.body;
  if (raw === undefined || raw === null || raw === '')
    throw invalid(`The request body is missing. ${USAGE}`);
  if (Buffer.byteLength(raw, 'utf8') > MAX_BODY_BYTES) {
    throw new LoginError(
      'payload_too_large',
      `The request body is larger than ${MAX_BODY_BYTES} bytes. ${USAGE}`,
    );
  }
  if (!event.isBase64Encoded) return raw;
  const compact = raw.replace(/\s+/g, '');
  if (compact.length % 4 === 1 || !BASE64.test(compact)) {
    throw invalid(`The request body is marked as base64 but is not valid base64. ${USAGE}`);
  }
  return Buffer.from(compact, 'base64').toString('utf8');
}

function checkCode(code: unknown): string {
  if (code === undefined) throw invalid(`The request body has no "code". ${USAGE}`);
  if (typeof code !== 'string') throw invalid(`"code" must be a string. ${USAGE}`);
  if (code.trim() === '')
    throw invalid(`"code" is empty. Call wx.login() and send the code it returns.`);
  if (code.length > MAX_CODE_LENGTH) {
    throw invalid(
      `"code" is longer than ${MAX_CODE_LENGTH} characters, so it is not a code from wx.login().`,
    );
  }
  if (!CODE.test(code)) {
    throw invalid(
      '"code" may only contain letters, digits, "_" and "-". Send the code from wx.login() unchanged.',
    );
  }
  return code;
}

function bodyAppId(appId: unknown): string | undefined {
  if (appId === undefined || appId === null) return undefined;
  if (typeof appId !== 'string' || !APP_ID.test(appId)) {
    throw invalid('"appid" must be a mini program AppID such as wx4f4bc4dec97d474b.');
  }
  return appId;
}

/** A Referer of exactly wx.request's shape names the calling mini program; any other is ignored. */
function refererAppId(headers: APIGatewayProxyEventV2['headers'] | undefined): string | undefined {
  if (!headers) return undefined;
  let referer = headers.referer;
  if (referer === undefined) {
    for (const [name, value] of Object.entries(headers)) {
      if (name.toLowerCase() === 'referer') referer = value;
    }
  }
  return referer === undefined ? undefined : REFERER.exec(referer)?.[1];
}

function invalid(detail: string): LoginError {
  return new LoginError('invalid_request', detail);
}
