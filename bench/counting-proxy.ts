import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A loopback HTTP proxy in front of moto that counts the Secrets Manager calls per operation. */
export interface CountingProxy {
  readonly url: string;
  /** Calls per `X-Amz-Target` operation (e.g. `GetSecretValue`) since the last reset. */
  readonly counts: Map<string, number>;
  count(operation: string): number;
  reset(): void;
  close(): Promise<void>;
}

/** Forwards every request to `target` unchanged (moto does not check signatures). */
export async function startCountingProxy(target: string): Promise<CountingProxy> {
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
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    counts,
    count: (operation) => counts.get(operation) ?? 0,
    reset: () => counts.clear(),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      agent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
