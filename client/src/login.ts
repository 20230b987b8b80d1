/**
 * One login: a code from `wx.login`, exchanged at `POST {baseUrl}/openid` for a session.
 *
 * A code works once. When the answer says the code was stale or used, or that WeChat's answer
 * was lost (`upstream_timeout`: the code may have been consumed), one more attempt is made
 * with a fresh code. A code is never sent twice, and nothing else is retried: the other
 * failures would fail again, or tell the page how long to wait.
 */
import type { Session, WxApi } from './index.ts';
import { asObject, text, texts } from './json.ts';
import { clientError, problemError } from './problem.ts';
import { OPTIONAL_FIELDS } from './session-store.ts';
import { wxRequest } from './transport.ts';

const FRESH_CODE_HELPS = ['code_used', 'invalid_code', 'upstream_timeout'];

/** `nextCode` is `wx.login` as a promise, counted by the caller. */
export async function exchangeCode(
  wx: WxApi,
  baseUrl: string,
  nextCode: () => Promise<string>,
): Promise<Session> {
  for (let attempt = 1; ; attempt++) {
    // Taken before the request: the token's lifetime starts on the server at or after this
    // moment, so counting from here never overestimates it, whatever the device's clock says.
    const sentAt = Date.now();
    const response = await wxRequest(wx, {
      url: `${baseUrl}/openid`,
      method: 'POST',
      header: { 'content-type': 'application/json' },
      data: { code: await nextCode() },
    });
    if (response.statusCode === 200) return toSession(response.data, sentAt);
    const error = problemError(response);
    if (attempt > 1 || FRESH_CODE_HELPS.indexOf(error.code) < 0) throw error;
  }
}

/**
 * A session from an answer that issues one (`/openid`, `/phone`); `sentAt` is when the request
 * left, in milliseconds.
 */
export function toSession(data: unknown, sentAt: number): Session {
  const body = asObject(data);
  const openid = text(body.openid);
  const token = text(body.token);
  const { expiresIn } = body;
  if (openid && !token) {
    throw clientError(
      'sessions_off',
      200,
      'The backend returned the openid but no session token: sessions are off on this backend.',
    );
  }
  if (!openid || !token || typeof expiresIn !== 'number' || !(expiresIn > 0)) {
    throw clientError('unexpected_response', 200, 'The login answer is not a session.');
  }
  const expiresAt = Math.floor(sentAt / 1000) + expiresIn;
  return { openid, token, expiresAt, ...texts(body, OPTIONAL_FIELDS) };
}
