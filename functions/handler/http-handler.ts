import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import { LoginError } from '../domain/errors.ts';
import type { Login } from '../domain/login.ts';
import type { Logger, LoginTrace } from '../domain/ports.ts';
import { writeLoginRecord } from './login-record.ts';
import { problem, success } from './problems.ts';
import { parseLoginRequest } from './request.ts';

export interface HandlerDeps {
  readonly login: Login;
  readonly log: Logger;
  /** The `service` metric dimension: the Lambda function's name. */
  readonly service: string;
}

export type ApiHandler = (
  event: APIGatewayProxyEventV2,
  context?: Pick<Context, 'awsRequestId'>,
) => Promise<APIGatewayProxyStructuredResultV2>;

/**
 * The primary adapter: parse, log in, answer. It never throws; every failure becomes the
 * contract's problem response and exactly one log line.
 */
export function createHandler(deps: HandlerDeps): ApiHandler {
  let coldStart = true;
  return async (event, context) => {
    const started = performance.now();
    const wasCold = coldStart;
    coldStart = false;
    const requestId = event?.requestContext?.requestId ?? context?.awsRequestId ?? 'unknown';
    const trace: LoginTrace = { calls: 0, wechatMs: 0 };

    let response: APIGatewayProxyStructuredResultV2;
    let outcome = 'ok';
    let openid: string | undefined;
    let failure: { reason?: string; error?: unknown } = {};
    try {
      const session = await deps.login(parseLoginRequest(event), trace);
      openid = session.openid;
      response = success(session);
    } catch (error) {
      const rendered = problem(error, requestId);
      ({ code: outcome, response } = rendered);
      failure = logFields(error, rendered.reason);
    }

    writeLoginRecord(deps.log, deps.service, {
      requestId,
      outcome,
      status: response.statusCode ?? 500,
      coldStart: wasCold,
      durationMs: performance.now() - started,
      wechatCalls: trace.calls,
      wechatMs: trace.wechatMs,
      ...(trace.errcode !== undefined && { errcode: trace.errcode }),
      ...(trace.appId !== undefined && { appId: trace.appId }),
      ...(openid !== undefined && { openid }),
      ...failure,
    });
    return response;
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
