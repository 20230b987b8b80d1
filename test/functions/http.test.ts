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
