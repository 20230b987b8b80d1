/** What the doctor's tests share: running it as the operator does, and loopback endpoints. */
import { spawn } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';

const DOCTOR = fileURLToPath(new URL('../../scripts/doctor.ts', import.meta.url));

export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `node scripts/doctor.ts …` as the operator would (asynchronously: servers are
 * in-process), with these variables added to the environment.
 */
export function runDoctor(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [DOCTOR, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export interface Received {
  readonly method?: string;
  readonly url?: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** One canned answer. */
export interface Canned {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

export const json = (status: number, body: unknown, contentType = 'application/json'): Canned => ({
  status,
  contentType,
  body: JSON.stringify(body),
});

/** API Gateway's own answer for a route it does not have. */
const GATEWAY_NOT_FOUND = json(404, { message: 'Not Found' });

export interface Endpoint {
  /** The base URL, without a trailing slash. */
  readonly base: string;
  /** `{base}/openid`. */
  readonly url: string;
  readonly received: Received[];
  readonly server: Server;
}

/**
 * A loopback endpoint answering by route key ("METHOD /path"); a route it lacks answers as
 * API Gateway does, 404 `{"message":"Not Found"}`. A function answer may read the base URL.
 */
export async function endpoint(
  routes: Readonly<Record<string, Canned | ((base: string) => Canned)>>,
): Promise<Endpoint> {
  const received: Received[] = [];
  let base = '';
  const server = createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      text += chunk;
    });
    req.on('end', () => {
      received.push({ method: req.method, url: req.url, headers: req.headers, body: text });
      const route = routes[`${req.method} ${req.url}`] ?? GATEWAY_NOT_FOUND;
      const { status, contentType, body } = typeof route === 'function' ? route(base) : route;
      res.writeHead(status, { 'content-type': contentType, 'apigw-requestid': 'req-local' });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  const { port } = server.address() as AddressInfo;
  base = `http://127.0.0.1:${port}`;
  return { base, url: `${base}/openid`, received, server };
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    ),
  );
});
