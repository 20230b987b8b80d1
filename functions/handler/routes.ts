import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { ROUTES, routeKey } from '../commons/names.ts';
import { identityFromClaims } from '../domain/identity.ts';
import type { Login } from '../domain/login.ts';
import type { LoginTrace, Session } from '../domain/ports.ts';
import { discoveryDocument, type SessionKeys, type SignedSession } from '../domain/session.ts';
import { NO_STORE } from './problems.ts';
import { parseLoginRequest } from './request.ts';

/** The event of any route: the authorizer's claims are there on the routes it protects. */
export type ApiEvent = APIGatewayProxyEventV2 & {
  readonly requestContext: {
    readonly authorizer?: { readonly jwt?: { readonly claims?: Record<string, unknown> } };
  };
};

/** A route's answer: a JSON body, and how long it may be cached. */
export interface Reply {
  readonly body: Record<string, unknown>;
  readonly cacheControl: string;
}

/** One use case behind one route key. Throws `LoginError`; the handler renders it. */
export type Route = (event: ApiEvent, trace: LoginTrace) => Promise<Reply>;

export interface RouteDeps {
  readonly login: Login;
  /** Present when sessions are on. */
  readonly sessions?: { readonly issuer: string; readonly keys: SessionKeys };
}

export const LOGIN_ROUTE = routeKey(ROUTES.login);

/**
 * Discovery and keys are public and change only with a key rotation, which waits out
 * API Gateway's own 2-hour JWKS cache anyway (docs/operators.md); an hour spares the
 * function most fetches from other verifiers.
 */
const PUBLIC = 'public, max-age=3600';

/**
 * The route table: the route key (API Gateway's `routeKey`, "METHOD /path") picks the use
 * case. With sessions off, the session routes are not in it and answer 404.
 */
export function createRoutes(deps: RouteDeps): Readonly<Record<string, Route>> {
  const routes: Record<string, Route> = {
    [LOGIN_ROUTE]: async (event, trace) => {
      const session: Session & Partial<SignedSession> = await deps.login(
        parseLoginRequest(event),
        trace,
      );
      const { openid, unionid, token, expiresIn } = session;
      trace.openid = openid;
      // Picked field by field: nothing else WeChat said reaches the caller.
      return {
        body: {
          openid,
          ...(unionid !== undefined && { unionid }),
          ...(token !== undefined && { token, expiresIn }),
        },
        cacheControl: NO_STORE,
      };
    },
  };
  const { sessions } = deps;
  if (sessions) {
    // Fixed for the life of the environment: built once.
    const discovery = discoveryDocument(sessions.issuer);
    routes[routeKey(ROUTES.discovery)] = async () => ({ body: discovery, cacheControl: PUBLIC });
    routes[routeKey(ROUTES.jwks)] = async () => ({
      body: { keys: await sessions.keys.published() },
      cacheControl: PUBLIC,
    });
    routes[routeKey(ROUTES.me)] = async (event) => ({
      body: { ...identityFromClaims(event.requestContext.authorizer?.jwt?.claims) },
      cacheControl: NO_STORE,
    });
  }
  return routes;
}
