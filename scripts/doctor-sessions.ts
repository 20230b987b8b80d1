/**
 * The session checks of `npm run doctor`: what API Gateway's JWT authorizer reads (the
 * discovery document, then the JWKS it names), the login's token against those keys, and on
 * request `GET /me`. A wrong issuer or a missing key does not fail a deploy: every token is
 * refused later, so this is where it shows. Uses `jose`, a development dependency: the
 * doctor is a dev tool and never bundled.
 */
import { createLocalJWKSet, errors, type JSONWebKeySet, jwtVerify } from 'jose';
import { parseJsonObject } from '../functions/commons/json.ts';
import { discovery as discoveryRoute, jwks as jwksRoute } from '../functions/routes/index.ts';
import { routeKey } from '../functions/routes/route.ts';
import {
  type Answer,
  type Diagnosis,
  healthy,
  networkMessage,
  type Outcome,
  send,
  unhealthy,
} from './doctor-http.ts';
import { isIssuer } from './doctor-urls.ts';

/** API Gateway gives up on a JWKS larger than this. */
const JWKS_MAX_BYTES = 150_000;

export interface SessionCheck {
  /** The API's base URL: the login URL without its `/openid`. */
  readonly base: string;
  /** The issuer the tokens must name: the base, or a custom domain given with --issuer. */
  readonly issuer: string;
  /** The login's token, when the login answered one. */
  readonly token: string | undefined;
  /** Also call `GET /me` with the token. */
  readonly me: boolean;
  readonly timeoutMs: number;
}

/** The verdicts on sessions, one sentence each. Sessions off is a healthy verdict. */
export async function checkSessions(check: SessionCheck): Promise<Diagnosis[]> {
  const discoveryUrl = `${check.issuer}${discoveryRoute.path}`;
  const discovery = await send(new URL(discoveryUrl), {}, check.timeoutMs);
  if ('networkError' in discovery) {
    return [
      unhealthy(`Fetching ${discoveryUrl} failed: ${networkMessage(discovery.networkError)}`),
    ];
  }
  if (discovery.answer.status === 404) return [await withoutDiscovery(check, discoveryUrl)];

  const found = readDiscovery(discovery.answer, check.issuer, discoveryUrl);
  if ('problem' in found) return [found.problem];
  const keys = await readKeys(found.jwksUri, check.timeoutMs);
  if ('problem' in keys) return [keys.problem];
  const published = `${discoveryUrl} names ${check.issuer} as issuer and its JWKS publishes ${count(keys.set.keys.length, 'RS256 key')}`;

  if (check.token === undefined) {
    return [
      healthy(
        `Sessions are on: ${published}; there was no token to verify, as WeChat logs no made-up code in.`,
      ),
    ];
  }
  const verified = await verifyToken(check.token, keys.set, check.issuer);
  if ('problem' in verified) return [verified.problem];
  const verdict = healthy(
    `Sessions are on: ${published}, and the login's token verifies against them (kid ${verified.kid}).`,
  );
  return check.me
    ? [verdict, await checkMe(check.base, check.token, verified.audience, check.timeoutMs)]
    : [verdict];
}

/**
 * No discovery document: sessions are off when the JWKS and `/me` are missing too and the
 * login gave no token; anything else means the issuer the tokens name is elsewhere.
 */
async function withoutDiscovery(check: SessionCheck, discoveryUrl: string): Promise<Diagnosis> {
  const fix = `if the issuer is a custom domain, pass it with --issuer; otherwise check the stack's ${routeKey(discoveryRoute)} route`;
  if (check.token !== undefined) {
    return unhealthy(
      `The login answers session tokens, but ${discoveryUrl} answers 404, so API Gateway cannot find their keys: ${fix}.`,
    );
  }
  const [jwks, me] = await Promise.all([
    send(new URL(`${check.issuer}${jwksRoute.path}`), {}, check.timeoutMs),
    send(new URL(`${check.base}/me`), {}, check.timeoutMs),
  ]);
  if (status(jwks) !== 404) {
    return unhealthy(
      `${check.issuer}${jwksRoute.path} answers ${said(jwks)} but ${discoveryUrl} answers 404, so API Gateway cannot create its authorizer: ${fix}.`,
    );
  }
  if (status(me) !== 404) {
    return unhealthy(
      `GET ${check.base}/me answers ${said(me)} but ${discoveryUrl} answers 404: ${fix}.`,
    );
  }
  return healthy(
    'Sessions are off: the discovery document, the JWKS and GET /me answer 404 and the login answers no token, so there is nothing more to check.',
  );
}

type Found<T> = T | { readonly problem: Diagnosis };

/** The discovery document must name, as issuer, exactly the URL it was fetched from. */
function readDiscovery(answer: Answer, issuer: string, url: string): Found<{ jwksUri: string }> {
  const document = answer.status === 200 ? parseJsonObject(answer.body) : undefined;
  if (document === undefined) {
    return problem(
      `${url} answers HTTP ${answer.status} without a JSON discovery document, so API Gateway cannot create its JWT authorizer.`,
    );
  }
  const named = document.issuer;
  if (typeof named === 'string' && named === `${issuer}/`) {
    return problem(
      `The discovery document's issuer "${named}" ends in a slash, so it is not the tokens' iss that API Gateway compares: set SESSION_ISSUER (the stack does) without the trailing slash.`,
    );
  }
  if (named !== issuer) {
    const mismatch = `The discovery document at ${url} names issuer ${JSON.stringify(named)}, not ${issuer}, the URL it was fetched from`;
    // `localhost` is not `127.0.0.1` to API Gateway: `iss` is compared as a string.
    return problem(
      typeof named === 'string' && isIssuer(named)
        ? `${mismatch}, and the issuer must be the exact host the authorizer will use: if that is ${named}, run the doctor again with --issuer ${named}; otherwise set SESSION_ISSUER to ${issuer}.`
        : `${mismatch}, so API Gateway would refuse every token: set SESSION_ISSUER to ${issuer}, or pass --issuer if the issuer is a custom domain.`,
    );
  }
  const expected = `${issuer}${jwksRoute.path}`;
  if (document.jwks_uri !== expected) {
    return problem(
      `The discovery document's jwks_uri is ${JSON.stringify(document.jwks_uri)}, not ${expected}, so API Gateway would look for the keys in the wrong place.`,
    );
  }
  const algorithms = document.id_token_signing_alg_values_supported;
  if (!Array.isArray(algorithms) || !algorithms.includes('RS256')) {
    return problem(
      'The discovery document does not list RS256 in id_token_signing_alg_values_supported, the only algorithm API Gateway accepts.',
    );
  }
  return { jwksUri: expected };
}

/** The JWKS: served, small enough for API Gateway, and only RS256 RSA keys with a kid. */
async function readKeys(url: string, timeoutMs: number): Promise<Found<{ set: JSONWebKeySet }>> {
  const outcome = await send(new URL(url), {}, timeoutMs);
  if ('networkError' in outcome) {
    return problem(`Fetching the JWKS ${url} failed: ${networkMessage(outcome.networkError)}`);
  }
  const { answer } = outcome;
  if (answer.status === 404) {
    return problem(
      `The JWKS ${url} answers 404 although the discovery document names it, so API Gateway can verify no token: check the stack's ${routeKey(jwksRoute)} route.`,
    );
  }
  const document = answer.status === 200 ? parseJsonObject(answer.body) : undefined;
  const keys = document?.keys;
  if (!Array.isArray(keys) || keys.length === 0) {
    return problem(
      `The JWKS ${url} answers HTTP ${answer.status} without a "keys" list, so API Gateway can verify no token.`,
    );
  }
  if (Buffer.byteLength(answer.body) > JWKS_MAX_BYTES) {
    return problem(
      `The JWKS is ${Buffer.byteLength(answer.body)} bytes, over the ${JWKS_MAX_BYTES} API Gateway reads: publish fewer retired keys (SESSION_PUBLISHED_KEY_IDS).`,
    );
  }
  const unusable = keys.findIndex((key) => !isRs256Key(key));
  if (unusable !== -1) {
    return problem(
      `The JWKS's key #${unusable + 1} is not an RS256 RSA key with kid, n and e (kty "RSA", alg "RS256"), which is all API Gateway accepts.`,
    );
  }
  return { set: { keys } };
}

function isRs256Key(key: unknown): boolean {
  if (typeof key !== 'object' || key === null) return false;
  const { kty, alg, kid, n, e } = key as Record<string, unknown>;
  const filled = (value: unknown) => typeof value === 'string' && value !== '';
  return kty === 'RSA' && alg === 'RS256' && filled(kid) && filled(n) && filled(e);
}

/** The checks API Gateway makes that the doctor can make too: RS256, kid, signature, iss, exp. */
async function verifyToken(
  token: string,
  set: JSONWebKeySet,
  issuer: string,
): Promise<Found<{ kid: string; audience: string }>> {
  try {
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(set), {
      algorithms: ['RS256'],
      issuer,
    });
    const audience = Array.isArray(payload.aud) ? payload.aud[0] : payload.aud;
    return { kid: protectedHeader.kid ?? '', audience: audience ?? '' };
  } catch (error) {
    return problem(tokenMessage(error, issuer));
  }
}

function tokenMessage(error: unknown, issuer: string): string {
  const refused = 'so API Gateway would refuse every token';
  if (error instanceof errors.JWKSNoMatchingKey) {
    return `The login's token is signed under a kid the JWKS does not publish, ${refused}: the JWKS must list the key the function signs with.`;
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return `The login's token does not verify against the JWKS key of its kid, ${refused}: the JWKS publishes another key than the one that signs.`;
  }
  if (error instanceof errors.JWTClaimValidationFailed && error.claim === 'iss') {
    return `The login's token names another iss than ${issuer}, ${refused}: SESSION_ISSUER must be the issuer the discovery document names.`;
  }
  if (error instanceof errors.JWTExpired) {
    return "The login's token has already expired: check the function's clock and SESSION_TTL_SECONDS.";
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return `The login's token is not signed with RS256, ${refused}.`;
  }
  const code = error instanceof errors.JOSEError ? error.code : String(error);
  return `The login's token does not verify against the JWKS (${code}), ${refused}.`;
}

/**
 * `GET /me` with the verified token. API Gateway checks `aud` against the AppIDs the stack
 * was deployed with (`-c appIds`), which it cannot read from the secret: an AppID the secret
 * serves but the stack does not name gets tokens that verify and are still refused.
 */
async function checkMe(
  base: string,
  token: string,
  audience: string,
  timeoutMs: number,
): Promise<Diagnosis> {
  const outcome = await send(
    new URL(`${base}/me`),
    { headers: { authorization: `Bearer ${token}` } },
    timeoutMs,
  );
  if ('networkError' in outcome) {
    return unhealthy(`Calling GET /me failed: ${networkMessage(outcome.networkError)}`);
  }
  const { status: code } = outcome.answer;
  if (code === 200) return healthy(`GET /me accepts the login's token for AppID ${audience}.`);
  if (code === 401) {
    return unhealthy(
      `GET /me refuses the login's token (401) although it verifies against the JWKS: its AppID ${audience} is served by the secret but not in the stack's appIds context, so deploy again with ${audience} in -c appIds=….`,
    );
  }
  if (code === 404) {
    return unhealthy(
      `GET /me answers 404: the stack was deployed without -c appIds, so no route checks these tokens yet; deploy with -c appIds=${audience}.`,
    );
  }
  return unhealthy(`GET /me answers HTTP ${code} to the login's token, not 200 or 401.`);
}

const count = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;

const problem = (message: string): { problem: Diagnosis } => ({ problem: unhealthy(message) });

function status(outcome: Outcome): number | undefined {
  return 'answer' in outcome ? outcome.answer.status : undefined;
}

function said(outcome: Outcome): string {
  return 'answer' in outcome
    ? `HTTP ${outcome.answer.status}`
    : `nothing (${networkMessage(outcome.networkError)})`;
}
