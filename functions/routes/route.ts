import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { Login } from '../domain/login.ts';
import type { RequestTrace } from '../domain/ports.ts';
import { Problem } from '../domain/problem.ts';
import type { TokenKeys } from '../domain/token.ts';

/** The event of any route: the authorizer's claims are there on the routes it protects. */
export type ApiEvent = APIGatewayProxyEventV2 & {
  readonly requestContext: {
    readonly authorizer?: { readonly jwt?: { readonly claims?: Record<string, unknown> } };
  };
};

/** A route's answer: a JSON body (none for 204), and how long it may be cached. */
export interface Reply {
  readonly status?: 200 | 204;
  readonly body?: Record<string, unknown>;
  readonly cacheControl: string;
}

/** What a route may need switched on; without it, the route does not exist (404). */
export type Feature = 'tokens' | 'users' | 'openData';

/** Every dependency a route may use, built once per execution environment (functions/wiring.ts). */
export interface RouteDeps {
  readonly login: Login;
  /** Present when sessions are on: the login signs a token (the feature `tokens`). */
  readonly tokens?: { readonly issuer: string; readonly keys: TokenKeys };
}

/** The names of the routes, for the catalogue's per-route wording and the log line. */
export type RouteName = 'login' | 'discovery' | 'jwks' | 'me';

/**
 * One route, described once: the handler dispatches on it, the local server gates and
 * authorizes by it, the CDK API routes it, and the function's timeout is the slowest
 * route's budget.
 */
export interface Route<Request = unknown> {
  readonly name: RouteName;
  readonly method: 'GET' | 'POST' | 'DELETE';
  readonly path: string;
  /**
   * `public`, with the reason it needs no authorizer (the CDK stack states it); or `token`:
   * API Gateway's JWT authorizer (locally its stand-in) verifies a session token first.
   */
  readonly access: { readonly public: string } | 'token';
  /** What must be on for the route to exist. */
  readonly needs: readonly Feature[];
  /** The request as the use case takes it; throws `Problem` (`invalid_request`, …). */
  parse(event: ApiEvent): Request;
  /** Runs the use case. Throws `Problem`; the handler renders it. */
  run(request: Request, deps: RouteDeps, trace: RequestTrace): Promise<Reply>;
  /** The Embedded Metric Format count this route's log line carries, by outcome. */
  readonly metric?: string;
  /** The slowest this route can be, for a WeChat timeout (functions/commons/budgets.ts). */
  budgetMs(wechatTimeoutMs: number): number;
}

/** API Gateway's `routeKey` of a route: "METHOD /path". */
export function routeKey(route: Pick<Route, 'method' | 'path'>): string {
  return `${route.method} ${route.path}`;
}

/** Whether every feature a route needs is on in these dependencies. */
export function isServed(route: Pick<Route, 'needs'>, on: ReadonlySet<Feature>): boolean {
  return route.needs.every((feature) => on.has(feature));
}

/** The features these dependencies switch on. */
export function featuresOf(deps: RouteDeps): ReadonlySet<Feature> {
  const on = new Set<Feature>();
  if (deps.tokens) on.add('tokens');
  return on;
}

/** Every answer that is about one user or one request. */
export const NO_STORE = 'no-store';

/**
 * Public documents that change only with a key rotation, which waits out API Gateway's own
 * 2-hour JWKS cache anyway (docs/operators.md); an hour spares the function most fetches.
 */
export const PUBLIC_CACHE = 'public, max-age=3600';

/** The signing side of the dependencies; a route that needs sessions is only served with it. */
export function tokensOf(deps: RouteDeps): NonNullable<RouteDeps['tokens']> {
  if (!deps.tokens) throw new Problem('not_found');
  return deps.tokens;
}
