import { USERS } from '../commons/budgets.ts';
import { type Identity, identityFromClaims } from '../domain/identity.ts';
import { NO_STORE, type Route } from './route.ts';

/**
 * `DELETE /me`: erases the caller's record (the user's right to deletion). 204, also when
 * there was nothing to erase, and with users off, where nothing is kept. The token itself
 * stays valid until it expires: nothing remembers tokens.
 */
export const deleteMe: Route<Identity> = {
  name: 'deleteMe',
  method: 'DELETE',
  path: '/me',
  access: 'token',
  needs: ['tokens'],
  parse: (event) => identityFromClaims(event.requestContext.authorizer?.jwt?.claims),
  async run(caller, deps, trace) {
    trace.appId = caller.appid;
    trace.openid = caller.openid;
    await deps.users?.erase(caller.appid, caller.openid);
    return { status: 204, cacheControl: NO_STORE };
  },
  budgetMs: () => USERS.totalMs,
};
