import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { LoginError } from '../domain/errors.ts';
import type { Logger, LoginTrace } from '../domain/ports.ts';
import { writeRequestRecord } from './login-record.ts';
import { problem, problemResponse } from './problems.ts';
import { type ApiEvent, createRoutes, type Reply, type RouteDeps } from './routes.ts';

export interface HandlerDeps extends RouteDeps {
  readonly log: Logger;
  /** The `service` metric dimension: the Lambda function's name. */
  readonly service: string;
}

export type ApiHandler = (
  event: ApiEvent,
  context?: Pick<Context, 'awsRequestId'>,
) => Promise<APIGatewayProxyStructuredResultV2>;

/**
 * The primary adapter: pick the route, run its use case, answer. It never throws; every
 * failure becomes a problem response (rendered in one place, problems.ts) and every request
 * exactly one log line.
 */
export function createHandler(deps: HandlerDeps): ApiHandler {
  const routes = createRoutes(deps);
  let coldStart = true;
  return async (event, context) => {
    const started = performance.now();
    const wasCold = coldStart;
    coldStart = false;
    const requestId = event?.requestContext?.requestId ?? context?.awsRequestId ?? 'unknown';
    const routeKey = typeof event?.routeKey === 'string' ? event.routeKey : '';
    // Own keys only: a route key such as "toString" must not find Object.prototype's.
    const route = Object.hasOwn(routes, routeKey) ? routes[routeKey] : undefined;
    const trace: LoginTrace = { calls: 0, wechatMs: 0 };

    let response: APIGatewayProxyStructuredResultV2;
    let outcome = 'ok';
    let failure: { reason?: string; error?: unknown } = {};
    if (route === undefined) {
      outcome = 'not_found';
      response = problemResponse('not_found', requestId);
    } else {
      try {
        response = reply(await route(event, trace));
      } catch (error) {
        const rendered = problem(error, requestId);
        ({ code: outcome, response } = rendered);
        failure = logFields(error, rendered.reason);
      }
    }

    writeRequestRecord(deps.log, deps.service, {
      route: routeKey,
      requestId,
      outcome,
      status: response.statusCode ?? 500,
      coldStart: wasCold,
      durationMs: performance.now() - started,
      trace,
      ...failure,
    });
    return response;
  };
}

function reply({ body, cacheControl }: Reply): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json', 'cache-control': cacheControl },
    body: JSON.stringify(body),
  };
}

/** The operator's side of a failure: the reason, and for the unexpected, the error itself. */
function logFields(
  failure: unknown,
  reason: string | undefined,
): { reason?: string; error?: unknown } {
  if (failure instanceof LoginError) return reason === undefined ? {} : { reason };
  return { error: failure instanceof Error ? failure : String(failure) };
}
