/**
 * The server under load: the local server in sandbox mode, on 127.0.0.1 only, logging one JSON
 * line per request to stdout as the Lambda does (the parent sends stdout to /dev/null).
 * Forked by test/load/run.ts; talks to it over the IPC channel.
 */
import { createLogger } from '../../functions/adapters/log.ts';
import { loadConfig } from '../../functions/config.ts';
import { startLocalServer } from '../../functions/local/server.ts';

/** Messages from the parent. */
export type ToChild = { type: 'gc' } | { type: 'stop' };
/** Messages to the parent. */
export type ToParent =
  | { type: 'listening'; url: string }
  | { type: 'gc-done'; memory: NodeJS.MemoryUsage };

const send = (message: ToParent) => process.send?.(message);

const server = await startLocalServer(
  loadConfig({ PORT: '0' }),
  createLogger({ service: 'weapp-openid-load' }),
  '127.0.0.1',
);
if (server.mode !== 'sandbox') throw new Error(`expected the sandbox, got ${server.mode}`);
send({ type: 'listening', url: server.url.href });

process.on('message', (message: ToChild) => {
  if (message.type === 'gc') {
    // Started with --expose-gc: collect so that RSS shows retained memory, not garbage.
    (globalThis as { gc?: () => void }).gc?.();
    send({ type: 'gc-done', memory: process.memoryUsage() });
  } else if (message.type === 'stop') {
    void server.close().then(() => process.exit(0));
  }
});
// The parent went away without stopping us: do not linger.
process.on('disconnect', () => process.exit(0));
