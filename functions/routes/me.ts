import { type Identity, identityFromClaims } from '../domain/identity.ts';
import { NO_STORE, type Route } from './route.ts';

/** `GET /me`: who the verified token says the caller is. */
export const me: Route<Identity> = {
  name: 'me',
  method: 'GET',
  path: '/me',
  access: 'token',
  needs: ['tokens'],
  parse: (event) => identityFromClaims(event.requestContext.authorizer?.jwt?.claims),
  run: (identity) => Promise.resolve({ body: { ...identity }, cacheControl: NO_STORE }),
  budgetMs: () => 0,
};
