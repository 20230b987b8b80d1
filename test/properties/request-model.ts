/**
 * What the contract (docs/endpoint.md, "Requests and answers") says about a login request, written from the
 * contract and not from functions/routes/request.ts: where the contract leaves a choice open,
 * the model accepts every reasonable answer. The requests themselves come from
 * request-generators.ts.
 */
import { APP_ID, APP_SECRET, OTHER_APP_ID, OTHER_APP_SECRET } from '../../harness/fixtures.ts';

export const MAX_BODY_BYTES = 16 * 1024;

export type Registry = 'single' | 'multi';

/** The apps each registry configures, as the secret would hold them. */
export const REGISTRY_APPS: Record<Registry, ReadonlyMap<string, string>> = {
  single: new Map([[APP_ID, APP_SECRET]]),
  multi: new Map([
    [APP_ID, APP_SECRET],
    [OTHER_APP_ID, OTHER_APP_SECRET],
  ]),
};

export interface RequestCase {
  readonly registry: Registry;
  /** Shaped like an API Gateway v2 event, with fields missing or odd on purpose. */
  readonly event: Record<string, unknown>;
  readonly context?: { awsRequestId: string };
  /** For a body the generator base64-encoded: the text it decodes to. */
  readonly decoded?: string;
}

/** One acceptable answer. */
export interface Outcome {
  readonly status: number;
  readonly code?: string;
}

/** What the contract allows for a request: one or more outcomes, and the app WeChat is asked about. */
export interface Expected {
  readonly outcomes: readonly Outcome[];
  /** When the request is a valid login: the AppID and code WeChat must be called with. */
  readonly call?: { readonly appId: string; readonly appSecret: string; readonly code: string };
}

const invalidRequest: Outcome = { status: 400, code: 'invalid_request' };
const appidMismatch: Outcome = { status: 400, code: 'appid_mismatch' };
const tooLarge: Outcome = { status: 413, code: 'payload_too_large' };
export const CODE_CHARS = /^[A-Za-z0-9_-]+$/;
const MINI_PROGRAM_APP_ID = /^wx[0-9A-Za-z]{16}$/;
/** wx.request's Referer, with the AppIDs and versions the generator produces for it. */
const USABLE_REFERER =
  /^https:\/\/servicewechat\.com\/(wx[0-9A-Za-z]{16})\/(?:0|devtools|\d{1,4})\/page-frame\.html$/;

/** The contract's answer for one generated request. */
export function expected(c: RequestCase): Expected {
  const { body, isBase64Encoded } = c.event as { body?: unknown; isBase64Encoded?: unknown };
  if (body === undefined || body === null || body === '') return { outcomes: [invalidRequest] };
  const raw = String(body);
  // Counted as received, in bytes, before any base64 decoding.
  if (Buffer.byteLength(raw, 'utf8') > MAX_BODY_BYTES) return { outcomes: [tooLarge] };
  let text: string;
  if (isBase64Encoded === true) {
    // A body flagged base64 that the generator did not encode is not base64 (it holds JSON
    // punctuation or non-ASCII text), so it cannot decode to a login request.
    if (c.decoded === undefined) return { outcomes: [invalidRequest] };
    text = c.decoded;
  } else text = raw;

  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { outcomes: [invalidRequest] };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { outcomes: [invalidRequest] };
  const fields = value as Record<string, unknown>;
  const code = Object.hasOwn(fields, 'code') ? fields.code : undefined;
  const codeOk =
    typeof code === 'string' && code.trim() !== '' && code.length <= 128 && CODE_CHARS.test(code);

  // The Referer wins; else the body's appid; a body appid that is not an AppID at all may be
  // answered as a malformed request or as a mismatch (the contract allows either reading).
  const fromReferer = usableRefererAppId(c.event.headers);
  let requested: string | undefined;
  let appOutcomes: Outcome[] | undefined;
  if (fromReferer !== undefined) requested = fromReferer;
  else {
    const appid = Object.hasOwn(fields, 'appid') ? fields.appid : undefined;
    if (typeof appid === 'string' && MINI_PROGRAM_APP_ID.test(appid)) requested = appid;
    else if (appid === null) appOutcomes = [invalidRequest, ...resolve(c.registry, undefined)];
    else if (appid !== undefined) appOutcomes = [invalidRequest, appidMismatch];
  }
  appOutcomes ??= resolve(c.registry, requested);

  if (!codeOk) {
    // The contract does not rank a bad code against a bad appid: both are 400s.
    const alsoMismatch = appOutcomes.some((o) => o.code === 'appid_mismatch');
    return { outcomes: alsoMismatch ? [invalidRequest, appidMismatch] : [invalidRequest] };
  }
  const appId = requested ?? (c.registry === 'single' ? APP_ID : undefined);
  const appSecret = appId === undefined ? undefined : REGISTRY_APPS[c.registry].get(appId);
  const okAllowed = appOutcomes.some((o) => o.status === 200);
  if (!okAllowed || appId === undefined || appSecret === undefined)
    return { outcomes: appOutcomes };
  return { outcomes: appOutcomes, call: { appId, appSecret, code: code as string } };
}

function resolve(registry: Registry, requested: string | undefined): Outcome[] {
  const apps = REGISTRY_APPS[registry];
  if (requested === undefined) return apps.size === 1 ? [{ status: 200 }] : [appidMismatch];
  return apps.has(requested) ? [{ status: 200 }] : [appidMismatch];
}

function usableRefererAppId(headers: unknown): string | undefined {
  if (typeof headers !== 'object' || headers === null) return undefined;
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() === 'referer' && typeof value === 'string')
      return USABLE_REFERER.exec(value)?.[1];
  }
  return undefined;
}

/** The code string a request carries (the last `code` entry), for the leak check. */
export function codeOf(c: RequestCase): string | undefined {
  const raw = c.event.body;
  if (typeof raw !== 'string') return undefined;
  const text = c.decoded ?? raw;
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value === 'object' && value !== null && Object.hasOwn(value, 'code')) {
      const code = (value as { code: unknown }).code;
      return typeof code === 'string' ? code : undefined;
    }
  } catch {}
  return undefined;
}
