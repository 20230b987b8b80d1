import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { HttpFailure, send } from '../../functions/adapters/http.ts';

describe('a connection idle long enough to have gone stale', () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    child?.kill();
  });

  it('is not reused after a freeze, so the request is not reset after it was sent', async () => {
    // Prepare: a server in another process that closes a connection 100 ms after answering,
    // without a keep-alive hint (as many servers and proxies do).
    child = spawn(
      process.execPath,
      [
        '-e',
        `const s = require('node:net').createServer((sock) => sock.on('data', () => {
           sock.write('HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok');
           setTimeout(() => sock.destroy(), 100);
         }));
         s.listen(0, '127.0.0.1', () => console.log(s.address().port));`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const [line] = (await once(child.stdout as NodeJS.ReadableStream, 'data')) as [Buffer];
    const url = new URL(`http://127.0.0.1:${line.toString().trim()}/`);
    expect((await send({ method: 'GET', url, timeoutMs: 1000 })).body).toBe('ok');

    // Act: freeze this process (as Lambda does between invocations) while the server closes
    // the idle connection, then send at once, before the event loop sees the close.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 4500);
    const response = await send({ method: 'GET', url, timeoutMs: 1000 });

    // Assess
    expect(response.body).toBe('ok');
  }, 15_000);
});

describe('a connection that never comes up', () => {
  it('fails as a timeout before the request was sent, after the connect timeout', async () => {
    // Prepare: accepts TCP but never answers the TLS handshake.
    const silent = net.createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as net.AddressInfo;
    const started = performance.now();

    // Act
    const error = await send({
      method: 'GET',
      url: new URL(`https://127.0.0.1:${port}/`),
      timeoutMs: 3000,
      connectTimeoutMs: 200,
    }).catch((reason: unknown) => reason);

    // Assess
    expect(error).toBeInstanceOf(HttpFailure);
    expect(error).toMatchObject({ kind: 'timeout', sent: false });
    expect(performance.now() - started).toBeLessThan(2000);
    silent.close();
  });
});

/** A server in another process, so that it runs while this one is frozen. */
async function serverProcess(script: string): Promise<{ url: URL; child: ChildProcess }> {
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(child.stdout as NodeJS.ReadableStream, 'data')) as [Buffer];
  return { url: new URL(`http://127.0.0.1:${line.toString().trim()}/`), child };
}

describe('a kept-alive connection the server closed just before the next request', () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    child?.kill();
  });

  it('is retried once on a fresh connection when reset before any answer', async () => {
    // Prepare: a server that closes connections idle for 1 s, with no keep-alive hint, and
    // says which request and connection each answer is.
    let url: URL;
    ({ url, child } = await serverProcess(
      `let connections = 0, requests = 0;
       const s = require('node:net').createServer((sock) => {
         const connection = ++connections;
         let idle;
         sock.on('error', () => {});
         sock.on('data', () => {
           clearTimeout(idle);
           const body = 'request ' + ++requests + ' on connection ' + connection;
           sock.write('HTTP/1.1 200 OK\\r\\nContent-Length: ' + body.length + '\\r\\n\\r\\n' + body);
           idle = setTimeout(() => sock.destroy(), 1000);
         });
       });
       s.listen(0, '127.0.0.1', () => console.log(s.address().port));`,
    ));
    expect((await send({ method: 'GET', url, timeoutMs: 1000 })).body).toBe(
      'request 1 on connection 1',
    );

    // Act: a 2 s freeze, shorter than the 4 s idle cut-off, while the server closes the
    // connection; the request is written in the same turn as the close arrives.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2000);
    const response = await send({ method: 'GET', url, timeoutMs: 1000 });

    // Assess: the write to the closed connection never reached the server's application.
    expect(response.body).toBe('request 2 on connection 2');
  }, 15_000);
});

describe('a connection reset after the request reached the server', () => {
  const servers: net.Server[] = [];
  afterAll(() => {
    for (const server of servers) server.close();
  });

  /** A server that answers the first `answered` requests of each connection, then resets. */
  async function resetting(answered: number, partial = false) {
    let requests = 0;
    const server = net.createServer((sock) => {
      let seen = 0;
      sock.on('error', () => {});
      sock.on('data', () => {
        requests++;
        if (++seen <= answered) sock.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
        else {
          if (partial) sock.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nok');
          setImmediate(() => sock.resetAndDestroy());
        }
      });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = new URL(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}/`);
    return { url, requests: () => requests };
  }

  it('is not retried on a fresh connection: the request may have been acted on', async () => {
    const server = await resetting(0);

    const error = await send({ method: 'GET', url: server.url, timeoutMs: 1000 }).catch(
      (reason: unknown) => reason,
    );

    expect(error).toMatchObject({ kind: 'network', sent: true });
    expect(server.requests()).toBe(1);
  });

  it('is not retried on a reused connection the server reset after reading the request', async () => {
    const server = await resetting(1);
    await send({ method: 'GET', url: server.url, timeoutMs: 1000 });

    const error = await send({ method: 'GET', url: server.url, timeoutMs: 1000 }).catch(
      (reason: unknown) => reason,
    );

    expect(error).toMatchObject({ kind: 'network', sent: true });
    expect(server.requests()).toBe(2);
  });

  it('is not retried on a reused connection once part of an answer came back', async () => {
    const server = await resetting(1, true);
    await send({ method: 'GET', url: server.url, timeoutMs: 1000 });

    const error = await send({ method: 'GET', url: server.url, timeoutMs: 1000 }).catch(
      (reason: unknown) => reason,
    );

    expect(error).toMatchObject({ kind: 'network', sent: true });
    expect(server.requests()).toBe(2);
  });
});
