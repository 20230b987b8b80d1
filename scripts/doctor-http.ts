/**
 * What every check of `npm run doctor` shares: one request with a deadline, its answer or
 * its network error, and one plain sentence for either.
 */
import { maskUserinfo } from './doctor-urls.ts';

/** What an endpoint answered. */
export interface Answer {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
  /** API Gateway's `apigw-requestid` header, when present. */
  readonly requestId?: string;
  /** Every header, by its lower-case name. */
  readonly headers?: Readonly<Record<string, string>>;
}

/** The endpoint answered, or the request failed before any answer. */
export type Outcome = { readonly answer: Answer } | { readonly networkError: unknown };

/** A verdict: healthy or not, and one sentence for the operator. */
export interface Diagnosis {
  readonly healthy: boolean;
  readonly message: string;
}

export const healthy = (message: string): Diagnosis => ({ healthy: true, message });
export const unhealthy = (message: string): Diagnosis => ({ healthy: false, message });

export interface Send {
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

/** One request, never following redirects (a redirect is not the endpoint's answer). */
export async function send(url: URL, request: Send, timeoutMs: number): Promise<Outcome> {
  try {
    const response = await fetch(url, {
      method: request.method ?? 'GET',
      ...(request.headers && { headers: { ...request.headers } }),
      ...(request.body !== undefined && { body: request.body }),
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    return {
      answer: {
        status: response.status,
        contentType: response.headers.get('content-type') ?? '',
        body: await response.text(),
        requestId: response.headers.get('apigw-requestid') ?? undefined,
        headers: Object.fromEntries(response.headers),
      },
    };
  } catch (error) {
    return { networkError: error };
  }
}

/** What a network error means for the operator, in one sentence. */
export function networkMessage(error: unknown): string {
  const { code, name, message } = rootCause(error);
  if (name === 'TimeoutError' || code === 'ETIMEDOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') {
    return 'No answer in time: the host is unreachable from here (firewall, proxy, wrong host) or hangs.';
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return 'The host name does not resolve: check the URL, or for a custom domain the CNAME to the CustomDomainTarget output.';
  }
  if (code === 'ECONNREFUSED') {
    return 'Connection refused: nothing listens at that address. Locally, start the server with `npm start`; otherwise check the URL.';
  }
  if (code === 'ECONNRESET')
    return 'The connection was reset: a proxy or firewall may be in the way.';
  if (code && /CERT|TLS|SSL|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)/.test(code)) {
    return `TLS failed (${code}): the certificate is not trusted or not for this host. For a custom domain, the ACM certificate must cover it; WeChat will refuse it too.`;
  }
  // The error's own words may quote the URL.
  return maskUserinfo(
    `Could not reach the endpoint: ${code ?? name ?? 'error'} ${message ?? ''}`.trim(),
  );
}

/** fetch wraps the socket error in `cause`; the innermost one names what happened. */
function rootCause(error: unknown): { code?: string; name?: string; message?: string } {
  let current: unknown = error;
  let found: { code?: string; name?: string; message?: string } = {};
  for (let depth = 0; current instanceof Error && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    found = {
      code: typeof code === 'string' ? code : found.code,
      name: current.name,
      message: current.message,
    };
    current = current.cause;
  }
  return found;
}
