import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { isObject } from '../commons/json.ts';
import { Problem, type RequestViolation } from '../domain/problem.ts';

/** Largest body accepted, counted as received (before base64 decoding). */
export const MAX_BODY_BYTES = 16 * 1024;

const CODE = /^[A-Za-z0-9_-]+$/;
export const MAX_CODE_LENGTH = 128;
/** What a request may name as its AppID: the Referer's alphabet, so it can be quoted back safely. */
const REQUESTED_APP_ID = /^[A-Za-z0-9_-]{1,64}$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
/** What wx.request sends: https://servicewechat.com/{appid}/{version}/page-frame.html */
const REFERER =
  /^https:\/\/servicewechat\.com\/([A-Za-z0-9_-]{1,64})\/[A-Za-z0-9._-]{1,64}\/page-frame\.html$/;

/**
 * The JSON object a request's body holds, or throws `invalid_request` (with the rule it
 * broke) or `payload_too_large`. What the fields mean is the route's to check.
 */
export function jsonBody(event: APIGatewayProxyEventV2): Readonly<Record<string, unknown>> {
  const body = decodeBody(event);
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw invalid('body_not_json');
  }
  if (!isObject(value)) throw invalid('body_not_object');
  return value;
}

/** A body field the client set itself: own properties only, never Object.prototype's. */
export function field(fields: Readonly<Record<string, unknown>>, name: string): unknown {
  return Object.hasOwn(fields, name) ? fields[name] : undefined;
}

function decodeBody(event: APIGatewayProxyEventV2): string {
  const raw = event.body;
  if (raw === undefined || raw === null || raw === '') throw invalid('body_missing');
  if (Buffer.byteLength(raw, 'utf8') > MAX_BODY_BYTES) {
    throw new Problem('payload_too_large');
  }
  if (!event.isBase64Encoded) return raw;
  const compact = raw.replace(/\s+/g, '');
  if (compact.length % 4 === 1 || !BASE64.test(compact)) {
    throw invalid('body_not_base64');
  }
  return Buffer.from(compact, 'base64').toString('utf8');
}

/** A one-time code from WeChat (a login or a phone code), checked before it goes anywhere. */
export function checkCode(code: unknown): string {
  if (code === undefined) throw invalid('code_missing');
  if (typeof code !== 'string') throw invalid('code_not_string');
  if (code.trim() === '') throw invalid('code_empty');
  if (code.length > MAX_CODE_LENGTH) {
    throw invalid('code_too_long');
  }
  if (!CODE.test(code)) {
    throw invalid('code_alphabet');
  }
  return code;
}

export function bodyAppId(appId: unknown): string | undefined {
  if (appId === undefined || appId === null) return undefined;
  if (typeof appId !== 'string' || !REQUESTED_APP_ID.test(appId)) {
    throw invalid('appid_malformed');
  }
  return appId;
}

/** A Referer of exactly wx.request's shape names the calling mini program; any other is ignored. */
export function refererAppId(
  headers: APIGatewayProxyEventV2['headers'] | undefined,
): string | undefined {
  if (!headers) return undefined;
  let referer = headers.referer;
  if (referer === undefined) {
    for (const [name, value] of Object.entries(headers)) {
      if (name.toLowerCase() === 'referer') referer = value;
    }
  }
  return referer === undefined ? undefined : REFERER.exec(referer)?.[1];
}

export function invalid(violation: RequestViolation): Problem {
  return new Problem('invalid_request', { violation });
}
