import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What the proxy does with the next requests. */
export type FaultMode =
  | 'pass'
  | 'reset'
  | 'hang'
  | 'error500'
  /** Answer HTTP 400 with this AWS error type, as the service does (`ThrottlingException`). */
  | { readonly awsError: string }
  /** Answer HTTP 200 with this body, as a proxy in the way would (an HTML page, a cut-off body). */
  | { readonly ok200: string };

/**
 * A loopback HTTP proxy in front of a real service (moto_server) that counts the calls per
 * AWS operation and can be switched to fail them: reset the connection, never answer, or
 * answer HTTP 500 or an AWS error. Used to inject Secrets Manager and KMS faults.
 */
export interface FaultProxy {
  readonly url: string;
  mode: FaultMode;
  /** Calls per `X-Amz-Target` operation (e.g. `GetSecretValue`) since the last reset. */
  count(operation: string): number;
  resetCounts(): void;
  close(): Promise<void>;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  const agent = new http.Agent({ keepAlive: true });
  const counts = new Map<string, number>();
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    const operation =
      String(req.headers['x-amz-target'] ?? 'other')
        .split('.')
        .pop() ?? 'other';
    counts.set(operation, (counts.get(operation) ?? 0) + 1);
    const { mode } = proxy;
    if (typeof mode === 'object') {
      req.resume();
      if ('ok200' in mode) {
        res.writeHead(200, { 'content-type': 'text/html' }).end(mode.ok200);
        return;
      }
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify({ __type: mode.awsError, message: 'injected' }));
      return;
    }
    switch (mode) {
      case 'reset':
        req.socket.resetAndDestroy();
        return;
      case 'hang':
        return;
      case 'error500':
        res.writeHead(500, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify({ __type: 'InternalServiceError', message: 'injected' }));
        return;
      case 'pass': {
        const forward = http.request(
          {
            host: upstream.hostname,
            port: upstream.port,
            method: req.method,
            path: req.url,
            headers: req.headers,
            agent,
          },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        forward.on('error', () => {
          if (!res.headersSent) res.writeHead(502);
          res.end();
        });
        req.pipe(forward);
      }
    }
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxy: FaultProxy = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    mode: 'pass',
    count: (operation) => counts.get(operation) ?? 0,
    resetCounts: () => counts.clear(),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      agent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}
