import { fileURLToPath } from 'node:url';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import {
  type LambdaProcess,
  type LambdaProcessOptions,
  startLambdaProcess,
} from '../harness/lambda-process.ts';

const COMMANDS = fileURLToPath(new URL('./child-commands.mjs', import.meta.url));
const TRACE_FILES = fileURLToPath(new URL('./trace-files.mjs', import.meta.url));

/** Per-invocation times of a timed loop, in milliseconds. */
export interface LoopSummary {
  readonly count: number;
  readonly failures: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
  readonly maxRssKb: number;
  readonly lastFailure?: APIGatewayProxyStructuredResultV2;
}

/** A harness Lambda process with the bench's timed loops (bench/child-commands.mjs). */
export interface BenchProcess extends LambdaProcess {
  loop(event: APIGatewayProxyEventV2, count: number): Promise<LoopSummary>;
  httpLoop(url: string, count: number): Promise<LoopSummary>;
  postLoop(
    url: string,
    headers: Record<string, string>,
    body: string,
    count: number,
  ): Promise<LoopSummary>;
  /** file: URLs loaded so far; only with `traceFiles`. */
  loadedFiles(): Promise<string[]>;
}

/**
 * `traceFiles` records every file the child loads, through a loader hook preloaded with
 * `--import`: it slows every load down, so not for timing runs.
 */
export function startBenchProcess(
  options: LambdaProcessOptions & { readonly traceFiles?: boolean },
): BenchProcess {
  const { traceFiles, ...rest } = options;
  const child = startLambdaProcess({
    ...rest,
    nodeArgs: [...(traceFiles ? ['--import', TRACE_FILES] : []), ...(rest.nodeArgs ?? [])],
    commands: COMMANDS,
  });
  return {
    ...child,
    loop: (event, count) => child.send('loop', { event, count }),
    httpLoop: (url, count) => child.send('httpLoop', { url, count }),
    postLoop: (url, headers, body, count) => child.send('postLoop', { url, headers, body, count }),
    loadedFiles: async () => (await child.send<{ files: string[] }>('loadedFiles')).files,
  };
}
