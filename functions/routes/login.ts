import { worstCaseLoginMs } from '../commons/budgets.ts';
import { METRICS } from '../commons/names.ts';
import type { LoginRequest } from '../domain/login.ts';
import { bodyAppId, checkCode, field, jsonBody, refererAppId } from './request.ts';
import { NO_STORE, type Route } from './route.ts';

/**
 * `POST /openid`: exchanges a wx.login() code for the openid and, with sessions on, a
 * signed token. The AppID comes from wx.request's Referer, else from the body.
 */
export const login: Route<LoginRequest> = {
  name: 'login',
  method: 'POST',
  path: '/openid',
  access: {
    public:
      'Public by design: the wx.login() code in the body is the credential. It is single-use, valid 5 minutes, and only WeChat can mint one for this AppID.',
  },
  needs: [],
  parse(event) {
    const fields = jsonBody(event);
    const code = checkCode(field(fields, 'code'));
    const appId = refererAppId(event.headers) ?? bodyAppId(field(fields, 'appid'));
    return appId === undefined ? { code } : { code, appId };
  },
  async run(request, deps, trace) {
    const { openid, unionid, token, expiresIn, phone } = await deps.login(request, trace);
    // Picked field by field: nothing else WeChat said reaches the caller.
    return {
      body: {
        openid,
        ...(unionid !== undefined && { unionid }),
        ...(token !== undefined && { token, expiresIn }),
        ...(phone && { phoneNumber: phone.phoneNumber, countryCode: phone.countryCode }),
      },
      cacheControl: NO_STORE,
    };
  },
  metric: METRICS.logins,
  budgetMs: worstCaseLoginMs,
};
