/**
 * `npm start`: the function's routes on http://localhost:PORT, served by the same handler
 * the Lambda runs. With no WECHAT_* credentials it is a sandbox: a fake WeChat on loopback,
 * an in-memory secret and an in-memory session key, so it works on a fresh machine with no
 * account. On `GET /me` it stands in for API Gateway's JWT authorizer.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '../adapters/log.ts';
import { createStaticSource } from '../adapters/secret-store.ts';
import { createMemorySealer } from '../adapters/session-key-sealer.ts';
import { type Config, loadConfig } from '../config.ts';
import type { CredentialSource, Logger } from '../domain/ports.ts';
import type { ApiHandler } from '../handler/http-handler.ts';
import { createApiHandler, credentialSource, kmsTokens, type TokenWiring } from '../wiring.ts';
import { createLocalAuthorizer } from './authorizer.ts';
import { createMemoryKeys } from './memory-keys.ts';
import { createMemoryUsers } from './memory-users.ts';
import { createRequestListener, type LocalRoutes } from './request-listener.ts';
import {
  SANDBOX_APP_SECRET,
  SANDBOX_DEFAULT_APP_ID,
  startSandboxWechat,
} from './sandbox-wechat.ts';

export interface LocalServer {
  /** The login endpoint, `…/openid`. */
  readonly url: URL;
  /** The issuer of its tokens, when sessions are on. */
  readonly issuer: string | undefined;
  readonly mode: 'sandbox' | 'credentials' | 'secret';
  close(): Promise<void>;
}

/**
 * Node's defaults hold a slow client's socket for up to 5 minutes; a login's request is a few
 * hundred bytes, so the headers get 5 s and the whole request 10 s, checked every second.
 */
export const LOCAL_TIMEOUTS = { headersMs: 5_000, requestMs: 10_000, checkEveryMs: 1_000 } as const;

const SERVER_OPTIONS: http.ServerOptions = {
  headersTimeout: LOCAL_TIMEOUTS.headersMs,
  requestTimeout: LOCAL_TIMEOUTS.requestMs,
  connectionsCheckingInterval: LOCAL_TIMEOUTS.checkEveryMs,
};

/** Starts the local endpoint; `host` defaults to all interfaces so a phone on the LAN can reach it. */
export async function startLocalServer(
  config: Config,
  log: Logger,
  host?: string,
): Promise<LocalServer> {
  let routes: LocalRoutes | undefined;
  const server = http.createServer(
    SERVER_OPTIONS,
    createRequestListener(() => routes, log),
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, host, resolve);
  });
  // Past listen, a server error (such as running out of file descriptors on accept) must not
  // stop the process: the connection it concerns is lost, the server goes on.
  server.on('error', (error) => log.error('local server error', { error }));
  const { port } = server.address() as AddressInfo;
  // The port is known only now (PORT=0 picks a free one), and with it the default issuer.
  const localIssuer = `http://localhost:${port}`;

  const sandbox = config.credentials.kind === 'sandbox' ? await startSandboxWechat() : undefined;
  let credentials: CredentialSource;
  let tokens: TokenWiring | undefined;
  let handler: ApiHandler;
  try {
    if (sandbox) {
      credentials = createStaticSource({
        kind: 'any',
        defaultAppId: SANDBOX_DEFAULT_APP_ID,
        appSecret: SANDBOX_APP_SECRET,
      });
      tokens = {
        keys: createMemoryKeys(),
        issuer: config.tokens.kind === 'kms' ? (config.tokens.issuer ?? localIssuer) : localIssuer,
        ttlSeconds: config.tokens.ttlSeconds,
      };
      handler = createApiHandler(
        { ...config, wechatBaseUrl: sandbox.url },
        log,
        credentials,
        'weapp-openid-local',
        tokens,
        { users: createMemoryUsers(), sealer: createMemorySealer(), sandbox: true },
      );
    } else {
      credentials = credentialSource(config, log);
      tokens = kmsTokens(config, localIssuer, log);
      handler = createApiHandler(config, log, credentials, 'weapp-openid-local', tokens);
    }
  } catch (error) {
    server.closeAllConnections();
    server.close();
    await sandbox?.close();
    throw error;
  }
  routes = {
    handler,
    ...(tokens && {
      authorize: createLocalAuthorizer({
        issuer: tokens.issuer,
        audiences: async () => {
          const registry = await credentials.get();
          return registry.kind === 'any' ? 'any' : [...registry.apps.keys()];
        },
      }),
    }),
  };

  return {
    url: new URL(`http://localhost:${port}/openid`),
    issuer: tokens?.issuer,
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
    'sandbox mode: fake WeChat, in-memory secret, session key, users and open data key, no account needed (codes starting "sandbox-" trigger WeChat errors, see README)',
  credentials: 'calling WeChat for real with WECHAT_APP_ID/WECHAT_APP_SECRET',
  secret: 'calling WeChat for real with the secret WECHAT_SECRET_ID from Secrets Manager',
};

if (import.meta.main) {
  const log = createLogger({ service: 'weapp-openid-local' });
  try {
    const local = await startLocalServer(loadConfig(process.env), log);
    const signing = local.issuer ? `sessions signed, issuer ${local.issuer}` : 'sessions off';
    process.stdout.write(
      `weapp-openid listening on ${local.url.href} (${DESCRIPTIONS[local.mode]}; ${signing})\n`,
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
