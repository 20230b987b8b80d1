/**
 * The getPhoneNumber button's answer, read before anything is sent: only its code can be
 * exchanged for a number, and a refusal or a used-up quota is for the page to show, not for
 * the backend to hear about.
 */
import type { PhoneNumber, PhoneNumberDetail, Session } from './index.ts';
import { asObject, text } from './json.ts';
import { toSession } from './login.ts';
import { clientError } from './problem.ts';

/** `e.detail.errno` when the mini program's phone number verifications are used up. */
const QUOTA_USED_UP = 1400001;

/** The phone code in `detail`; rejects, with status 0, a detail that has none to send. */
export function phoneCode(detail: PhoneNumberDetail | string | undefined): string {
  if (typeof detail === 'string') {
    if (detail !== '') return detail;
    throw clientError('phone_code_missing', 0, 'bindPhone was given an empty code.');
  }
  const { code, errMsg, errno } = asObject(detail);
  const said = text(errMsg) ?? 'no errMsg';
  if (errno === QUOTA_USED_UP) {
    throw clientError(
      'phone_quota_exhausted',
      0,
      `This mini program's phone number verifications are used up (errno ${QUOTA_USED_UP}): its operator must add more in the mini program admin console before a number can be verified.`,
    );
  }
  if (/deny/i.test(said)) {
    throw clientError('phone_denied', 0, `The user declined to share a phone number (${said}).`);
  }
  const found = text(code);
  if (found) return found;
  throw clientError(
    'phone_code_missing',
    0,
    `The getPhoneNumber button gave no code (${said}). WeChat gives one from base library 2.21.2 on: set the mini program's minimum base library version to 2.21.2 or later in the admin console.`,
  );
}

/**
 * The session `/phone` answered, which carries the number. The answer has no unionid; the new
 * token carries the one the old token did, so the session keeps it.
 */
export function phoneSession(
  data: unknown,
  sentAt: number,
  previous: Session,
): Session & PhoneNumber {
  const session = toSession(data, sentAt);
  const { phoneNumber, countryCode } = session;
  if (!phoneNumber || !countryCode) {
    throw clientError('unexpected_response', 200, 'The /phone answer has no phone number.');
  }
  return previous.unionid && previous.openid === session.openid
    ? { ...session, unionid: previous.unionid, phoneNumber, countryCode }
    : { ...session, phoneNumber, countryCode };
}
