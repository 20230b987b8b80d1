/**
 * `npm start`: the login endpoint on http://localhost:PORT/openid, served by the same handler
 * the Lambda runs. With no WECHAT_* credentials it is a sandbox: a fake WeChat on loopback
 * and an in-memory secret, so it works on a fresh machine with no account.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '../adapters/log.ts';
import { createStaticSource } from '../adapters/secret-store.ts';
import { type Config, loadConfig } from '../config.ts';
import type { Logger } from '../domain/ports.ts';
import { problemResponse } from '../handler/problems.ts';
import { createApiHandler, credentialSource } from '../wiring.ts';
import { newRequestId, readBody, toEvent, writeResult } from './api-gateway.ts';
import {
  SANDBOX_APP_SECRET,
  SANDBOX_DEFAULT_APP_ID,
  startSandboxWechat,
} from './sandbox-wechat.ts';

export interface LocalServer {
  readonly url: URL;
  readonly mode: 'sandbox' | 'credentials' | 'secret';
  close(): Promise<void>;
}

/** Starts the local endpoint; `host` defaults to all interfaces so a phone on the LAN can reach it. */
export async function startLocalServer(
  config: Config,
  log: Logger,
  host?: string,
): Promise<LocalServer> {
  const sandbox = config.credentials.kind === 'sandbox' ? await startSandboxWechat() : undefined;
  const handler = sandbox
    ? createApiHandler(
        { ...config, wechatBaseUrl: sandbox.url },
        log,
        createStaticSource({
          kind: 'any',
          defaultAppId: SANDBOX_DEFAULT_APP_ID,
          appSecret: SANDBOX_APP_SECRET,
        }),
        'weapp-openid-local',
      )
    : createApiHandler(config, log, credentialSource(config, log), 'weapp-openid-local');

  const server = http.createServer(async (req, res) => {
    const requestId = newRequestId();
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    try {
      if (path !== '/openid') {
        req.resume();
        return writeResult(
          res,
          problemResponse(
            'not_found',
            requestId,
            {},
            `There is nothing at ${path}: POST to /openid.`,
          ),
          requestId,
        );
      }
      if (req.method !== 'POST') {
        req.resume();
        const result = problemResponse(
          'method_not_allowed',
          requestId,
          {},
          `Use POST for /openid, not ${req.method}.`,
        );
        return writeResult(
          res,
          { ...result, headers: { ...result.headers, allow: 'POST' } },
          requestId,
        );
      }
      const body = await readBody(req);
      writeResult(res, await handler(toEvent(req, body, requestId)), requestId);
    } catch (error) {
      log.error('local server failed to answer', { requestId, error });
      if (!res.headersSent)
        writeResult(
          res,
          problemResponse('internal_error', requestId, {}, 'The local server failed.'),
          requestId,
        );
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: new URL(`http://localhost:${port}/openid`),
    mode: sandbox ? 'sandbox' : config.credentials.kind === 'env' ? 'credentials' : 'secret',
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await sandbox?.close();
    },
  };
}

const DESCRIPTIONS = {
  sandbox:
    'sandbox mode: fake WeChat and in-memory secret, no account needed (codes starting "sandbox-" trigger WeChat errors, see README)',
  credentials: 'calling WeChat for real with WECHAT_APP_ID/WECHAT_APP_SECRET',
  secret: 'calling WeChat for real with the secret WECHAT_SECRET_ID from Secrets Manager',
};

if (import.meta.main) {
  const log = createLogger({ service: 'weapp-openid-local' });
  try {
    const local = await startLocalServer(loadConfig(process.env), log);
    process.stdout.write(
      `weapp-openid listening on ${local.url.href} (${DESCRIPTIONS[local.mode]})\n`,
    );
    const stop = () => void local.close().then(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  } catch (error) {
    process.stderr.write(
      `weapp-openid could not start: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(1);
  }
}
