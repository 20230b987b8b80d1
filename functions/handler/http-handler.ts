import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { Logger, RequestTrace } from '../domain/ports.ts';
import { Problem } from '../domain/problem.ts';
import {
  type ApiEvent,
  type Reply,
  type Route,
  type RouteDeps,
  routeKey,
} from '../routes/route.ts';
import { problemResponse, renderProblem } from './problems.ts';
import { writeRequestLine } from './request-log.ts';

export interface HandlerDeps extends RouteDeps {
  readonly log: Logger;
  /** The `service` metric dimension: the Lambda function's name. */
  readonly service: string;
  /** The routes served: those whose features are on (functions/wiring.ts picks them). */
  readonly routes: readonly Route[];
}

/** The Lambda handler; `routes` are the routes it serves, for the local server's gate. */
export type ApiHandler = ((
  event: ApiEvent,
  context?: Pick<Context, 'awsRequestId'>,
) => Promise<APIGatewayProxyStructuredResultV2>) & { readonly routes: readonly Route[] };

/**
 * The primary adapter: pick the route by API Gateway's route key, parse, run, answer. It
 * never throws; every failure becomes a problem response (rendered in one place,
 * problems.ts) and every request exactly one log line.
 */
export function createHandler(deps: HandlerDeps): ApiHandler {
  // A Map, not an object: a route key such as "toString" must find nothing.
  const byKey = new Map(deps.routes.map((route) => [routeKey(route), route]));
  let coldStart = true;
  const handle = async (
    event: ApiEvent,
    context?: Pick<Context, 'awsRequestId'>,
  ): Promise<APIGatewayProxyStructuredResultV2> => {
    const started = performance.now();
    const wasCold = coldStart;
    coldStart = false;
    const requestId = event?.requestContext?.requestId ?? context?.awsRequestId ?? 'unknown';
    const key = typeof event?.routeKey === 'string' ? event.routeKey : '';
    const route = byKey.get(key);
    const trace: RequestTrace = { calls: 0, wechatMs: 0 };

    let response: APIGatewayProxyStructuredResultV2;
    let outcome = 'ok';
    let failure: { reason?: string; error?: unknown } = {};
    if (route === undefined) {
      outcome = 'not_found';
      response = problemResponse('not_found', requestId);
    } else {
      try {
        response = reply(await route.run(route.parse(event), deps, trace));
      } catch (error) {
        const rendered = renderProblem(error, requestId, route.name);
        ({ code: outcome, response } = rendered);
        failure = logFields(error, rendered.reason);
      }
    }

    writeRequestLine(deps.log, deps.service, {
      route: key,
      ...(route?.metric !== undefined && { metric: route.metric }),
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
  return Object.assign(handle, { routes: deps.routes });
}

function reply({ status = 200, body, cacheControl }: Reply): APIGatewayProxyStructuredResultV2 {
  if (body === undefined) return { statusCode: status, headers: { 'cache-control': cacheControl } };
  return {
    statusCode: status,
    headers: { 'content-type': 'application/json', 'cache-control': cacheControl },
    body: JSON.stringify(body),
  };
}

/** The operator's side of a failure: the reason, and for the unexpected, the error itself. */
function logFields(
  failure: unknown,
  reason: string | undefined,
): { reason?: string; error?: unknown } {
  if (failure instanceof Problem) return reason === undefined ? {} : { reason };
  return { error: failure instanceof Error ? failure : String(failure) };
}
