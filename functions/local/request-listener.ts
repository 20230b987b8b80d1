import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Logger } from '../domain/ports.ts';
import type { ApiHandler } from '../handler/http-handler.ts';
import { problemResponse } from '../handler/problems.ts';
import { type Route, routeKey } from '../routes/route.ts';
import { newRequestId, readBody, toEvent, writeResult } from './api-gateway.ts';
import { type LocalAuthorizer, TokenRefused } from './authorizer.ts';

/** What the local server routes to, once it is wired. */
export interface LocalRoutes {
  /** The handler, and through it the routes it serves. */
  readonly handler: ApiHandler;
  /** Stands in for API Gateway's JWT authorizer on the routes that take a token. */
  readonly authorize?: LocalAuthorizer;
}

/**
 * The local server's answer to every HTTP request, as API Gateway would route it to the
 * function. The server listens on the LAN, so no request, however malformed, may end the
 * process: every failure ends in one place, and an answer when the client is still there.
 * `routes` is undefined while the server is starting.
 */
export function createRequestListener(
  routes: () => LocalRoutes | undefined,
  log: Logger,
): RequestListener {
  // Built once per route list: the list is fixed once the server is wired.
  const gates = new WeakMap<readonly Route[], ReadonlyMap<string, ReadonlyMap<string, Route>>>();
  const gateOf = (routes: readonly Route[]) => {
    let gate = gates.get(routes);
    if (!gate) {
      gate = byPath(routes);
      gates.set(routes, gate);
    }
    return gate;
  };

  /** What API Gateway answers itself in the cloud (and logs in its access log), logged here. */
  function refused(
    requestId: string,
    route: string,
    status: number,
    outcome: string,
    reason?: string,
  ) {
    log.info('request', {
      route,
      requestId,
      outcome,
      status,
      ...(reason !== undefined && { reason }),
    });
  }

  async function answer(req: IncomingMessage, res: ServerResponse, requestId: string) {
    const path = pathOf(req.url);
    if (path === undefined) {
      req.resume();
      return writeResult(
        res,
        problemResponse('invalid_request', requestId, {}, 'The request target is not a URL path.'),
        requestId,
      );
    }
    const wired = routes();
    const methods = wired && gateOf(wired.handler.routes).get(path);
    if (wired === undefined || methods === undefined) {
      req.resume();
      refused(requestId, `${req.method} ${loggable(path)}`, 404, 'not_found');
      return writeResult(
        res,
        problemResponse(
          'not_found',
          requestId,
          {},
          `There is nothing at ${path}: POST to /openid.`,
        ),
        requestId,
      );
    }
    const route = methods.get(req.method ?? '');
    if (route === undefined) {
      const allowed = [...methods.keys()];
      req.resume();
      refused(requestId, `${req.method} ${loggable(path)}`, 405, 'method_not_allowed');
      const result = problemResponse(
        'method_not_allowed',
        requestId,
        {},
        `Use ${allowed.join(' or ')} for ${path}, not ${req.method}.`,
      );
      return writeResult(
        res,
        { ...result, headers: { ...result.headers, allow: allowed.join(', ') } },
        requestId,
      );
    }
    const body = await readBody(req);
    let claims: Record<string, string> | undefined;
    if (route.access === 'token' && wired.authorize) {
      try {
        // Repeated headers joined, as API Gateway passes them.
        claims = await wired.authorize(req.headersDistinct.authorization?.join(','));
      } catch (error) {
        // As API Gateway: 401 before the function runs, with no word to the caller on what
        // was wrong; the developer finds the reason in the log, never the token.
        refused(requestId, routeKey(route), 401, 'unauthorized', reasonOf(error));
        return writeResult(res, problemResponse('unauthorized', requestId), requestId);
      }
    }
    const key = routeKey(route);
    writeResult(res, await wired.handler(toEvent(req, body, requestId, key, claims)), requestId);
  }

  function failed(req: IncomingMessage, res: ServerResponse, requestId: string, error: unknown) {
    try {
      // A client that hung up mid-request is not a failure of ours.
      if (req.readableAborted || res.destroyed) {
        log.info('the client went away before its answer', { requestId });
        return;
      }
      log.error('local server failed to answer', { requestId, error });
      if (res.headersSent) res.destroy();
      else
        writeResult(
          res,
          problemResponse('internal_error', requestId, {}, 'The local server failed.'),
          requestId,
        );
    } catch {
      res.destroy();
    }
  }

  return (req, res) => {
    const requestId = newRequestId();
    answer(req, res, requestId).catch((error: unknown) => failed(req, res, requestId, error));
  };
}

/** A path as the log may hold it: bounded, since the client chose it. */
function loggable(path: string): string {
  return path.length > 100 ? `${path.slice(0, 100)}…` : path;
}

function reasonOf(error: unknown): string {
  return error instanceof TokenRefused ? error.reason : 'the token could not be checked';
}

/** The request target's path, or undefined when it is not a URL (`GET http://%zz/`). */
function pathOf(target: string | undefined): string | undefined {
  return URL.parse(target ?? '/', 'http://localhost')?.pathname;
}

/** The routes served, by path, then by method. */
function byPath(routes: readonly Route[]): ReadonlyMap<string, ReadonlyMap<string, Route>> {
  const paths = new Map<string, Map<string, Route>>();
  for (const route of routes) {
    const methods = paths.get(route.path) ?? new Map<string, Route>();
    methods.set(route.method, route);
    paths.set(route.path, methods);
  }
  return paths;
}
