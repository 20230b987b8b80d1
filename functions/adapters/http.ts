// process.getBuiltinModule skips the ESM facade of `import http from 'node:http'`, whose
// creation reads every export and so loads undici, http2 and zlib for nothing: 15-20 ms of
// a cold start (docs/performance.md).
const http = process.getBuiltinModule('node:http');
const https = process.getBuiltinModule('node:https');

/** A response read in full. */
export interface HttpResponse {
  readonly status: number;
  readonly contentType: string | undefined;
  readonly body: string;
}

/**
 * A request that produced no response. `sent` tells whether the request may have reached
 * the server: only an unsent request is safe to retry when the call is not idempotent.
 */
export class HttpFailure extends Error {
  readonly kind: 'timeout' | 'network';
  readonly sent: boolean;
  readonly errorCode: string | undefined;

  constructor(kind: 'timeout' | 'network', sent: boolean, errorCode?: string, cause?: unknown) {
    super(
      `${kind}${sent ? ' after the request was sent' : ' before the request was sent'}${errorCode ? ` (${errorCode})` : ''}`,
      {
        cause,
      },
    );
    this.name = 'HttpFailure';
    this.kind = kind;
    this.sent = sent;
    this.errorCode = errorCode;
  }
}

export interface HttpRequest {
  readonly method: 'GET' | 'POST';
  readonly url: URL;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** Whole-exchange deadline: connect, send and read the body. */
  readonly timeoutMs: number;
  /** Deadline for the connection (TCP and TLS), so that an unreachable host leaves time to retry. */
  readonly connectTimeoutMs?: number;
  /** Larger answers are cut off and reported as a network failure. */
  readonly maxBodyBytes?: number;
}

/**
 * Connections idle for longer than this are not reused. Lambda freezes an environment between
 * invocations, and a server may close an idle connection meanwhile: a request written to such
 * a socket is reset after it was sent, which for a login code means an unknown outcome and no
 * retry. Busy environments keep reusing their connections.
 */
const MAX_IDLE_MS = 4000;

// Warm invocations reuse connections; the agents also honour the server's keep-alive hint.
const pools = {
  'http:': { agent: new http.Agent({ keepAlive: true }), lastUsed: 0 },
  'https:': { agent: new https.Agent({ keepAlive: true }), lastUsed: 0 },
};
type Pool = (typeof pools)['http:'];

/** The protocol's pool, without the idle connections that may have gone stale. */
function poolFor(protocol: string): Pool {
  const pool = protocol === 'https:' ? pools['https:'] : pools['http:'];
  if (Date.now() - pool.lastUsed > MAX_IDLE_MS) dropIdle(pool);
  pool.lastUsed = Date.now();
  return pool;
}

function dropIdle(pool: Pool): void {
  for (const sockets of Object.values(pool.agent.freeSockets)) {
    for (const socket of sockets ?? []) socket.destroy();
  }
}

/**
 * Sends one HTTP request with node:http(s), which loads faster than fetch on a cold start.
 *
 * A kept-alive connection the server closed while this environment was frozen (or in the
 * same turn of the event loop as the request is written) fails the request before any
 * answer, with the server's close already received. The peer had closed it before the
 * request arrived, so the request never reached the application: that one case is retried
 * once, on a fresh connection, within the same deadline. Every other failure is the
 * caller's to judge.
 */
export async function send(request: HttpRequest): Promise<HttpResponse> {
  const pool = poolFor(request.url.protocol);
  const deadline = performance.now() + request.timeoutMs;
  try {
    const first = await exchange(request, pool.agent, deadline, true);
    if (first !== 'stale') return first;
    // The other idle connections went through the same freeze: none of them is trusted.
    dropIdle(pool);
    return (await exchange(request, pool.agent, deadline, false)) as HttpResponse;
  } finally {
    pool.lastUsed = Date.now();
  }
}

/** Errors of a write to a connection the peer had already closed. */
const CLOSED_BY_PEER: ReadonlySet<string | undefined> = new Set(['ECONNRESET', 'EPIPE']);

/**
 * One request on one connection. With `staleOk`, a reset of a reused connection before any
 * answer resolves `'stale'` instead of failing.
 */
function exchange(
  request: HttpRequest,
  agent: Pool['agent'],
  deadline: number,
  staleOk: boolean,
): Promise<HttpResponse | 'stale'> {
  const { url } = request;
  const transport = url.protocol === 'https:' ? https : http;
  const maxBodyBytes = request.maxBodyBytes ?? 1 << 20;
  const timeoutMs = Math.max(1, deadline - performance.now());

  return new Promise<HttpResponse | 'stale'>((resolve, reject) => {
    let sent = false;
    let answered = false;
    let settled = false;
    const finish = (error: HttpFailure | undefined, response?: HttpResponse | 'stale') => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(connectTimer);
      if (error) {
        req.destroy();
        reject(error);
      } else resolve(response as HttpResponse | 'stale');
    };

    const req = transport.request(url, {
      method: request.method,
      headers: request.headers,
      agent,
    });
    const timer = setTimeout(() => finish(new HttpFailure('timeout', sent)), timeoutMs);
    const connectTimer =
      request.connectTimeoutMs === undefined || request.connectTimeoutMs >= timeoutMs
        ? undefined
        : setTimeout(() => {
            if (!sent) finish(new HttpFailure('timeout', false, 'ECONNECTTIMEOUT'));
          }, request.connectTimeoutMs);

    req.on('socket', (socket) => {
      // A reused keep-alive socket is already connected: the request goes out at once.
      if (!socket.connecting) sent = true;
      else
        socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', () => {
          sent = true;
        });
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      // The peer's close (its FIN) came before any answer: it had closed the connection before
      // it could read this request. A reset without it (RST) may follow a request it read.
      const closedBefore = req.reusedSocket && !answered && req.socket?.readableEnded === true;
      if (staleOk && closedBefore && CLOSED_BY_PEER.has(error.code)) {
        finish(undefined, 'stale');
      } else finish(new HttpFailure('network', sent, error.code, error));
    });
    req.on('response', (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBodyBytes) finish(new HttpFailure('network', true, 'EBODYTOOLARGE'));
        else chunks.push(chunk);
      });
      res.on('error', (error: NodeJS.ErrnoException) =>
        finish(new HttpFailure('network', true, error.code, error)),
      );
      res.on('end', () =>
        finish(undefined, {
          status: res.statusCode ?? 0,
          contentType: res.headers['content-type'],
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    req.end(request.body);
  });
}
