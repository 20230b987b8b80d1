import { worstCasePhoneMs } from '../commons/budgets.ts';
import { METRICS } from '../commons/names.ts';
import { type Identity, identityFromClaims } from '../domain/identity.ts';
import { Problem } from '../domain/problem.ts';
import { checkCode, field, jsonBody } from './request.ts';
import { NO_STORE, type Route } from './route.ts';

/** `POST /phone`: the getPhoneNumber button's code for the caller's verified number. */
export const phone: Route<{ readonly caller: Identity; readonly code: string }> = {
  name: 'phone',
  method: 'POST',
  path: '/phone',
  access: 'token',
  needs: ['tokens'],
  parse(event) {
    const caller = identityFromClaims(event.requestContext.authorizer?.jwt?.claims);
    return { caller, code: checkCode(field(jsonBody(event), 'code')) };
  },
  async run({ caller, code }, deps, trace) {
    if (!deps.bindPhone) throw new Problem('not_found');
    const { openid, phoneNumber, countryCode, token, expiresIn } = await deps.bindPhone(
      caller,
      code,
      trace,
    );
    return {
      body: { openid, phoneNumber, countryCode, token, expiresIn },
      cacheControl: NO_STORE,
    };
  },
  metric: METRICS.phoneBinds,
  budgetMs: worstCasePhoneMs,
};
