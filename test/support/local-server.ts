/**
 * The real local server, started as a developer starts it (`npm start`, sandbox mode, on a
 * free port), for the client to talk to over real HTTP.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';

export interface Sandbox {
  /** `http://localhost:PORT`, what a mini program puts in config.js. */
  readonly baseUrl: string;
  stop(): Promise<void>;
}

/** WeChat's timeout, short so that `sandbox-timeout` costs little. */
export const WECHAT_TIMEOUT_MS = 300;

export async function startSandbox(env: Record<string, string> = {}): Promise<Sandbox> {
  // Its own process group, so that stopping it stops the server npm started too.
  const child: ChildProcess = spawn('npm', ['start', '--silent'], {
    env: {
      ...process.env,
      PORT: '0',
      WECHAT_TIMEOUT_MS: String(WECHAT_TIMEOUT_MS),
      WECHAT_APP_ID: '',
      WECHAT_APP_SECRET: '',
      WECHAT_SECRET_ID: '',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`npm start printed no URL: ${output}`)),
      20_000,
    );
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', read);
    child.stderr?.on('data', read);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited with ${code}: ${output}`));
    });
  });
  return {
    baseUrl: new URL(url).origin,
    stop: async () => {
      if (child.exitCode !== null || child.pid === undefined) return;
      const exited = once(child, 'exit');
      process.kill(-child.pid, 'SIGTERM');
      await exited;
    },
  };
}
