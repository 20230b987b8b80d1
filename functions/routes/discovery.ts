import { jwks, KEYS_ARE_PUBLIC } from './jwks.ts';
import { PUBLIC_CACHE, type Route, tokensOf } from './route.ts';

/** `GET /.well-known/openid-configuration`: where API Gateway's JWT authorizer finds the keys. */
export const discovery: Route<void> = {
  name: 'discovery',
  method: 'GET',
  path: '/.well-known/openid-configuration',
  access: { public: KEYS_ARE_PUBLIC },
  needs: ['tokens'],
  parse() {},
  run: (_request, deps) =>
    Promise.resolve({
      body: discoveryDocument(tokensOf(deps).issuer),
      cacheControl: PUBLIC_CACHE,
    }),
  budgetMs: () => 0,
};

/** The OpenID discovery document API Gateway reads when its JWT authorizer is created. */
export function discoveryDocument(issuer: string): Record<string, unknown> {
  return {
    issuer,
    jwks_uri: `${issuer}${jwks.path}`,
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['id_token'],
    subject_types_supported: ['public'],
    claims_supported: [
      'iss',
      'sub',
      'aud',
      'unionid',
      'phone_number',
      'scope',
      'iat',
      'exp',
      'jti',
    ],
    scopes_supported: ['phone'],
  };
}
