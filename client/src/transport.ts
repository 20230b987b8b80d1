/**
 * `wx.login`, `wx.checkSession` and `wx.request` as promises, with the runtime's variations smoothed out: header
 * names come in any case, and `data` may be a string when the content type is not exactly
 * `application/json` (problem+json, text/plain) or on older base libraries.
 */
import type { RequestOptions, Response, WxApi } from './index.ts';
import { clientError } from './problem.ts';

/** A fresh one-time code. It is handed straight to the caller and kept nowhere. */
export function wxLogin(wx: WxApi): Promise<string> {
  return new Promise((resolve, reject) => {
    wx.login({
      success: (result) => {
        if (typeof result.code === 'string' && result.code !== '') return resolve(result.code);
        reject(clientError('wx_login_failed', 0, 'wx.login returned no code.'));
      },
      fail: (error) =>
        reject(clientError('wx_login_failed', 0, `wx.login failed: ${describe(error)}.`)),
    });
  });
}

/**
 * Whether WeChat still holds the session_key of the latest `wx.login` (any `wx.login`, this
 * client's or not); never rejects.
 */
export function wxCheckSession(wx: WxApi): Promise<boolean> {
  return new Promise((resolve) => {
    wx.checkSession({ success: () => resolve(true), fail: () => resolve(false) });
  });
}

/** Resolves for every HTTP answer, whatever its status; rejects `network_error` when there was none. */
export function wxRequest(wx: WxApi, options: RequestOptions): Promise<Response> {
  return new Promise((resolve, reject) => {
    wx.request({
      ...options,
      success: (result) => {
        const header = lowerCaseKeys(result.header);
        const parse =
          (options.dataType ?? 'json') === 'json' && options.responseType !== 'arraybuffer';
        resolve({
          statusCode: result.statusCode,
          header,
          data: parse ? parseJson(result.data, header['content-type']) : result.data,
        });
      },
      fail: (error) =>
        reject(
          clientError(
            'network_error',
            0,
            `The request did not reach the server or its answer was lost: ${describe(error)}.`,
          ),
        ),
    });
  });
}

function lowerCaseKeys(header: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (header === null || typeof header !== 'object') return out;
  for (const key of Object.keys(header)) {
    const value = (header as Record<string, unknown>)[key];
    if (value !== undefined && value !== null) out[key.toLowerCase()] = String(value);
  }
  return out;
}

function parseJson(data: unknown, contentType: string | undefined): unknown {
  if (typeof data !== 'string' || !/[/+]json\b/i.test(contentType ?? '')) return data;
  try {
    return JSON.parse(data);
  } catch {
    return data;
  }
}

function describe(error: unknown): string {
  const message = (error as { errMsg?: unknown } | undefined)?.errMsg;
  return typeof message === 'string' && message !== '' ? message : 'no reason given';
}
