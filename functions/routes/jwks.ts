import { KMS } from '../commons/budgets.ts';
import { PUBLIC_CACHE, type Route, tokensOf } from './route.ts';

/** Why discovery and the keys need no authorizer. */
export const KEYS_ARE_PUBLIC =
  'Public by design: the OpenID discovery document and the public keys are what API Gateway and any verifier need to check a token; they hold nothing secret.';

/** `GET /.well-known/jwks.json`: the public keys that verify session tokens. */
export const jwks: Route<void> = {
  name: 'jwks',
  method: 'GET',
  path: '/.well-known/jwks.json',
  access: { public: KEYS_ARE_PUBLIC },
  needs: ['tokens'],
  parse() {},
  async run(_request, deps) {
    return { body: { keys: await tokensOf(deps).keys.published() }, cacheControl: PUBLIC_CACHE };
  },
  budgetMs: () => KMS.publishMs,
};
