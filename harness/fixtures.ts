/** Values the tests use that must never reach a response or a log line. */
export const APP_ID = 'wx4f4bc4dec97d474b';
export const OTHER_APP_ID = 'wx0123456789abcdef';
export const APP_SECRET = 'appsecret-0b9d1c7e5f3a4b2c8d6e';
export const OTHER_APP_SECRET = 'appsecret-7a6b5c4d3e2f1a0b9c8d';
export const ROTATED_APP_SECRET = 'appsecret-rotated-11f0e9d8c7b6';
/** Base64 of 16 bytes, as WeChat's session_key is: the login keeps it for open data. */
export const SESSION_KEY = 'kT3pQ9vXw2Lr7sYb4NcJ0Q==';
export const CODE = '0a3XyZcodeFromWxLogin9f8e7d6c5b';
export const OPENID = 'oVBkZ0aYgDMDIywRdgPW8-joxXc4';
export const UNIONID = 'or4zX05h_Ykt4ju0TUfx3CQsvfTo';
/** What the fake WeChat's `stable_token` answers by default: a bearer credential of the app. */
export const ACCESS_TOKEN = '86_ACCESSTOKEN-kT3pQ9vXw2Lr7sYb4NcJ0eHf';
/** e.detail.code of the getPhoneNumber button: it works once and must never be logged. */
export const PHONE_CODE = 'phonecode-e2b7a1c9f4d3-8k6m';

export const SENSITIVE: readonly string[] = [
  APP_SECRET,
  OTHER_APP_SECRET,
  ROTATED_APP_SECRET,
  SESSION_KEY,
  CODE,
  ACCESS_TOKEN,
  PHONE_CODE,
];

export const singleAppSecret = (appSecret = APP_SECRET): string =>
  JSON.stringify({ appId: APP_ID, appSecret });
export const multiAppSecret = (): string =>
  JSON.stringify({ apps: { [APP_ID]: APP_SECRET, [OTHER_APP_ID]: OTHER_APP_SECRET } });

/** The Referer wx.request sends. */
export const referer = (appId: string, version = 'devtools'): string =>
  `https://servicewechat.com/${appId}/${version}/page-frame.html`;
