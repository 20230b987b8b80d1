import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { ROUTES, routeKey } from '../commons/names.ts';
import type { Logger } from '../domain/ports.ts';
import type { ApiHandler } from '../handler/http-handler.ts';
import { problemResponse } from '../handler/problems.ts';
import { newRequestId, readBody, toEvent, writeResult } from './api-gateway.ts';
import type { LocalAuthorizer } from './authorizer.ts';

/** What the local server routes to, once it is wired. */
export interface LocalRoutes {
  readonly handler: ApiHandler;
  /** Whether the session routes are served; else only the login. */
  readonly sessions: boolean;
  /** Stands in for API Gateway's JWT authorizer on `GET /me`. */
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
  const methods = new Map<boolean, ReadonlyMap<string, readonly string[]>>([
    [true, methodsByPath(true)],
    [false, methodsByPath(false)],
  ]);

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
    const allowed = wired && methods.get(wired.sessions)?.get(path);
    if (wired === undefined || allowed === undefined) {
      req.resume();
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
    if (!allowed.includes(req.method ?? '')) {
      req.resume();
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
    const key = `${req.method} ${path}`;
    let claims: Record<string, string> | undefined;
    if (key === routeKey(ROUTES.me) && wired.authorize) {
      try {
        // Repeated headers joined, as API Gateway passes them.
        claims = await wired.authorize(req.headersDistinct.authorization?.join(','));
      } catch {
        // As API Gateway: 401 before the function runs, with no word on what was wrong.
        return writeResult(res, problemResponse('unauthorized', requestId), requestId);
      }
    }
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

/** The request target's path, or undefined when it is not a URL (`GET http://%zz/`). */
function pathOf(target: string | undefined): string | undefined {
  return URL.parse(target ?? '/', 'http://localhost')?.pathname;
}

/** The routes served, by path: the methods each takes. With sessions off, only the login. */
function methodsByPath(sessions: boolean): ReadonlyMap<string, readonly string[]> {
  const methods = new Map<string, string[]>();
  for (const { method, path } of sessions ? Object.values(ROUTES) : [ROUTES.login]) {
    methods.set(path, [...(methods.get(path) ?? []), method]);
  }
  return methods;
}
