import { type ChildProcess, spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { type Artifact, NODE_24 } from './artifact.ts';

const CHILD = fileURLToPath(new URL('./lambda-child.mjs', import.meta.url));

/** What the child reports about the process it runs in. */
export interface ChildEnvironment {
  readonly nodeVersion: string;
  readonly sourceMapsEnabled: boolean;
  readonly nodeOptions: string | null;
  readonly execArgv: string[];
}

/** One invocation: the handler's result, or what it threw. */
export interface Invocation {
  readonly result?: APIGatewayProxyStructuredResultV2;
  readonly error?: { name?: string; message?: string; stack?: string };
  /** The handler's own time, measured in the child. */
  readonly ms: number;
}

/** The first invocation of a fresh process, right after the import. */
export interface FirstInvocation extends Invocation {
  /** The dynamic import of the module alone, measured in the child. */
  readonly importMs: number;
  /** How many Node.js internal modules and bindings the import loaded. */
  readonly builtinsLoaded: number;
  /** From the start of the child process (Node's time origin) to the answer. */
  readonly sinceProcessStartMs: number;
  /** From spawn() in the parent to the answer's line arriving in the parent. */
  readonly wallMs: number;
  readonly maxRssKb: number;
  readonly environment: ChildEnvironment;
}

export interface LambdaProcessOptions {
  /** The module to import (absolute path). */
  readonly module: string;
  readonly exportName?: string;
  /** The whole environment of the child: nothing is inherited from this process but PATH. */
  readonly env: Record<string, string>;
  /** Invoked right after the import; without it the child only reports that it is ready. */
  readonly firstEvent?: APIGatewayProxyEventV2;
  readonly nodeArgs?: readonly string[];
  readonly cwd?: string;
  /** A module whose exports the child adds to its commands (see lambda-child.mjs). */
  readonly commands?: string;
}

/** A fresh Node.js 24 process that imports a handler module and invokes it on request. */
export interface LambdaProcess {
  /** The first invocation (with `firstEvent`), or readiness after the import. */
  readonly first: Promise<FirstInvocation>;
  invoke(event: APIGatewayProxyEventV2): Promise<Invocation>;
  /** Runs one of the child's commands, e.g. one that `commands` added. */
  send<T>(name: string, arg?: unknown): Promise<T>;
  /** Everything the child wrote to stdout (the function's log lines) and stderr. */
  readonly stdout: string[];
  readonly stderr: string[];
  /** Ends stdin so the child exits, and kills it if it does not within `graceMs`. */
  close(graceMs?: number): Promise<void>;
}

const live = new Set<ChildProcess>();
// However this process ends, no child outlives it.
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Spawns the child; see lambda-child.mjs for the protocol. */
export function startLambdaProcess(options: LambdaProcessOptions): LambdaProcess {
  const args = [
    ...(options.nodeArgs ?? []),
    CHILD,
    options.module,
    options.exportName ?? 'handler',
    ...(options.firstEvent ? [JSON.stringify(options.firstEvent)] : []),
  ];
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    ...options.env,
    ...(options.commands && { LAMBDA_CHILD_COMMANDS: options.commands }),
  };
  const started = process.hrtime.bigint();
  const child = spawn(NODE_24, args, {
    cwd: options.cwd,
    env,
    stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
  });
  live.add(child);

  const stdout: string[] = [];
  const stderr: string[] = [];
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => stdout.push(chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));

  const waiting = new Map<
    number | 'first',
    { resolve: (m: never) => void; reject: (e: Error) => void }
  >();
  let exited: Error | undefined;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      exited = new Error(
        `the child exited (${signal ?? code}) before answering; stderr:\n${stderr.join('').slice(-3000)}`,
      );
      for (const { reject } of waiting.values()) reject(exited);
      waiting.clear();
      resolve();
    });
  });
  child.once('error', (error) => {
    for (const { reject } of waiting.values()) reject(error);
    waiting.clear();
  });

  const expect = <T>(key: number | 'first'): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (exited) return reject(exited);
      waiting.set(key, { resolve: resolve as (m: never) => void, reject });
    });

  const first = expect<FirstInvocation>('first');
  first.catch(() => {});
  let buffered = '';
  (child.stdio[3] as Readable).setEncoding('utf8').on('data', (chunk: string) => {
    const arrived = process.hrtime.bigint();
    buffered += chunk;
    let newline = buffered.indexOf('\n');
    while (newline >= 0) {
      const message = JSON.parse(buffered.slice(0, newline)) as { type: string; id?: number };
      buffered = buffered.slice(newline + 1);
      newline = buffered.indexOf('\n');
      const key = message.type === 'first' || message.type === 'ready' ? 'first' : message.id;
      if (key === undefined) continue;
      const entry = waiting.get(key);
      waiting.delete(key);
      if (message.type === 'error') entry?.reject(new Error(JSON.stringify(message)));
      else
        entry?.resolve({
          ...message,
          ...(key === 'first' && { wallMs: Number(arrived - started) / 1e6 }),
        } as never);
    }
  });

  let nextId = 0;
  const send = <T>(name: string, arg?: unknown): Promise<T> => {
    const id = ++nextId;
    const answer = expect<T>(id);
    child.stdin?.write(`${JSON.stringify({ id, name, arg })}\n`);
    return answer;
  };

  return {
    first,
    invoke: (event) => send<Invocation>('invoke', event),
    send,
    stdout,
    stderr,
    close: async (graceMs = 5000) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.stdin?.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exitPromise;
      clearTimeout(timer);
    },
  };
}

/**
 * The shipped artifact in a fresh process, as Lambda runs it: from its own directory
 * (/var/task), with the environment the stack gives it, plus `env` (secret id, endpoints).
 */
export function startArtifactProcess(
  artifact: Artifact,
  env: Record<string, string>,
): LambdaProcess {
  return startLambdaProcess({
    module: artifact.entry,
    exportName: artifact.handlerName,
    cwd: artifact.dir,
    env: {
      AWS_LAMBDA_FUNCTION_NAME: 'weapp-openid-test',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(artifact.memoryMb ?? 256),
      ...artifact.environment,
      ...env,
    },
  });
}
