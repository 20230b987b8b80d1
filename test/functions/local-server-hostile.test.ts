import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../functions/adapters/log.ts';
import { loadConfig } from '../../functions/config.ts';
import { SANDBOX_DEFAULT_APP_ID } from '../../functions/local/sandbox-wechat.ts';
import { type LocalServer, startLocalServer } from '../../functions/local/server.ts';
import { referer } from '../../harness/fixtures.ts';

/**
 * The local server, spoken to over raw sockets the way a hostile or broken client on the
 * LAN would: what it answers, what it logs, and how long it holds a socket.
 */
describe('the local server facing malformed and hostile clients', () => {
  let local: LocalServer;
  const lines: Record<string, unknown>[] = [];
  beforeAll(async () => {
    const log = createLogger({}, (line) => lines.push(JSON.parse(line)));
    local = await startLocalServer(loadConfig({ PORT: '0' }), log, '127.0.0.1');
  });
  afterAll(() => local?.close());

  /** Writes `text`, then reads until the server closes the socket; `then` runs once written. */
  function raw(text: string, then?: (socket: ReturnType<typeof connect>) => void) {
    return new Promise<{ answer: string; ms: number }>((resolve, reject) => {
      const started = performance.now();
      const socket = connect(Number(local.url.port), '127.0.0.1', () => {
        socket.write(text);
        then?.(socket);
      });
      let answer = '';
      socket.on('data', (chunk) => {
        answer += chunk.toString();
      });
      socket.on('error', reject);
      socket.on('close', () => resolve({ answer, ms: performance.now() - started }));
    });
  }

  const loginLine = (requestId: string) =>
    lines.find((line) => line.requestId === requestId && 'outcome' in line);
  const requestIdOf = (answer: string) => /apigw-requestid: (\S+)/i.exec(answer)?.[1] ?? '';

  it('answers a request target that is not a URL with 400, and goes on serving', async () => {
    const { answer } = await raw(
      'GET http://%zz/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );

    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toMatch(/"code":"invalid_request"/);
    const after = await fetch(local.url, { method: 'POST', body: '{"code":"after-bad-target"}' });
    expect(after.status).toBe(200);
  });

  it('joins repeated Referer headers as API Gateway does, so that neither names the app', async () => {
    const body = '{"code":"two-referers"}';
    const { answer } = await raw(
      [
        'POST /openid HTTP/1.1',
        'Host: x',
        'Connection: close',
        'Content-Type: application/json',
        `Referer: ${referer('wx1111111111111111')}`,
        `Referer: ${referer('wx2222222222222222')}`,
        `Content-Length: ${body.length}`,
        '',
        body,
      ].join('\r\n'),
    );

    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(loginLine(requestIdOf(answer))).toMatchObject({ appId: SANDBOX_DEFAULT_APP_ID });
  });

  it('logs a client that hangs up before sending its body as info, not as an error', async () => {
    const before = lines.length;
    await raw(
      'POST /openid HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"co',
      (socket) => setTimeout(() => socket.destroy(), 100),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));

    const logged = lines.slice(before);
    expect(logged.filter((line) => line.level === 'ERROR')).toEqual([]);
    expect(logged).toContainEqual(
      expect.objectContaining({ level: 'INFO', message: expect.stringMatching(/went away/) }),
    );
  });

  // The two timeouts are waited for side by side, each on its own socket.
  it.concurrent('closes a request whose body never finishes once the request timeout has passed', async () => {
    const { answer, ms } = await raw(
      'POST /openid HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"co',
    );

    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(ms).toBeGreaterThanOrEqual(10_000 - 50);
    // Node's own default would hold the socket for 300 s; the test's own timeout is the bound.
  }, 20_000);

  it.concurrent('closes a connection whose headers never finish once the headers timeout has passed', async () => {
    const { ms } = await raw('POST /openid HTTP/1.1\r\nHost: x\r\nX-Slow: ');

    expect(ms).toBeGreaterThanOrEqual(5_000 - 50);
  }, 20_000);
});
