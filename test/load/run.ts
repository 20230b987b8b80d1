/**
 * `npm run load` (`-- --short` for a quick run): the local server in sandbox mode, in a child
 * process, under autocannon on 127.0.0.1. Every answer is checked against the contract; the
 * run prints throughput, latency and the server's memory, and exits non-zero on any
 * non-contract answer, failed request, crash, or memory growth beyond the bound.
 *
 * Codes are single-use in the sandbox (as on WeChat), so every request carries a new one.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import autocannon from 'autocannon';
import {
  SANDBOX_CODE_LIFETIME_MS,
  SANDBOX_MAX_REMEMBERED,
} from '../../functions/local/sandbox-wechat.ts';
import { checkAnswer } from '../support/contract.ts';
import { readStatus } from './proc-status.ts';
import type { ToChild, ToParent } from './server-child.ts';

/** Memory the server may gain between the end of the warm-up and the end of the runs. */
export const RSS_GROWTH_BOUND_MIB = 64;
/**
 * V8 flags for the server: a heap sized like the 256 MB function's. With defaults on a large
 * machine V8 grows its young generation in 32-64 MiB steps and keeps them after GC, which
 * would swamp any real growth in RSS; an old space this size also turns a leak into a crash.
 */
const SERVER_V8_FLAGS = ['--max-semi-space-size=8', '--max-old-space-size=192'];
const CONNECTIONS = 64;

/** What a request expects, carried from setupRequest to onResponse in autocannon's context. */
interface Expectation {
  expected?: string;
}

/** Sandbox codes that answer a WeChat error at once (not sandbox-busy or sandbox-timeout, which wait). */
const ERROR_CODES: Readonly<Record<string, { status: number; code: string; errcode: number }>> = {
  'sandbox-invalid-code': { status: 400, code: 'invalid_code', errcode: 40029 },
  'sandbox-code-used': { status: 400, code: 'code_used', errcode: 40163 },
  'sandbox-user-blocked': { status: 403, code: 'user_blocked', errcode: 40226 },
  'sandbox-rate-limited': { status: 429, code: 'rate_limited', errcode: 45011 },
};
const ERROR_CODE_NAMES = Object.keys(ERROR_CODES);

export interface PhaseResult {
  readonly name: string;
  readonly requested: number;
  readonly completed: number;
  readonly seconds: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Answers by `status` or `status:code`. */
  readonly answers: Record<string, number>;
  /** Answers that are not the contract's answer to their request. */
  readonly nonContract: number;
  readonly examples: readonly string[];
  /** Connection errors and timeouts, as autocannon counts them. */
  readonly errors: number;
  readonly timeouts: number;
}

export interface LoadReport {
  readonly phases: readonly PhaseResult[];
  readonly rssMiB: {
    readonly afterWarmup: number;
    readonly afterRuns: number;
    readonly peak: number;
  };
  readonly rssGrowthMiB: number;
  /** V8 heap in use after a full GC: what the server really retains. */
  readonly heapUsedMiB: { readonly afterWarmup: number; readonly afterRuns: number };
  readonly crashed: boolean;
  /** Everything that makes the run fail; empty when it passed. */
  readonly failures: readonly string[];
}

export interface LoadOptions {
  readonly short?: boolean;
}

/** Starts the server, runs the warm-up, the unique-code run and the mixed run, and reports. */
export async function runLoad(options: LoadOptions = {}): Promise<LoadReport> {
  const size = options.short
    ? { warmup: 500, unique: 2_000, mixed: 2_000 }
    : { warmup: 2_000, unique: 20_000, mixed: 20_000 };
  const server = await startServer();
  try {
    const phases: PhaseResult[] = [];
    phases.push(await phase(server.url, 'warm-up', size.warmup, false));
    const afterWarmup = await settledMemory(server);
    phases.push(await phase(server.url, 'unique codes', size.unique, false));
    phases.push(await phase(server.url, 'mixed (1/4 errors)', size.mixed, true));
    const afterRuns = await settledMemory(server);
    const peak = readStatus(server.child.pid, 'VmHWM');
    const crashed = server.child.exitCode !== null || server.child.signalCode !== null;

    const rssGrowthMiB = afterRuns.rss - afterWarmup.rss;
    const failures: string[] = [];
    if (crashed) failures.push('the server process died during the run');
    for (const p of phases) {
      if (p.nonContract > 0)
        failures.push(`${p.name}: ${p.nonContract} non-contract answers, e.g. ${p.examples[0]}`);
      if (p.errors > 0 || p.timeouts > 0)
        failures.push(`${p.name}: ${p.errors} request errors, ${p.timeouts} timeouts`);
      if (p.completed !== p.requested)
        failures.push(`${p.name}: ${p.completed} of ${p.requested} requests answered`);
    }
    if (rssGrowthMiB > RSS_GROWTH_BOUND_MIB)
      failures.push(
        `RSS grew ${rssGrowthMiB.toFixed(1)} MiB after warm-up (bound ${RSS_GROWTH_BOUND_MIB} MiB)`,
      );
    return {
      phases,
      rssMiB: { afterWarmup: afterWarmup.rss, afterRuns: afterRuns.rss, peak },
      rssGrowthMiB,
      heapUsedMiB: { afterWarmup: afterWarmup.heapUsed, afterRuns: afterRuns.heapUsed },
      crashed,
      failures,
    };
  } finally {
    await server.stop();
  }
}

/** One autocannon run of `amount` requests, each checked as it is answered. */
async function phase(
  url: string,
  name: string,
  amount: number,
  mixed: boolean,
): Promise<PhaseResult> {
  const prefix = `load${Date.now().toString(36)}${name.length}`;
  let sent = 0;
  let nonContract = 0;
  const examples: string[] = [];
  const answers: Record<string, number> = {};

  const started = performance.now();
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    amount,
    timeout: 10,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        setupRequest: (request, context) => {
          const i = sent++;
          const special = mixed && i % 4 === 3 ? ERROR_CODE_NAMES[(i >> 2) % 4] : undefined;
          (context as Expectation).expected = special ?? 'ok';
          return {
            ...request,
            body: JSON.stringify({ code: special ?? `${prefix}-${i.toString(36)}` }),
          };
        },
        onResponse: (status, body, context, headers) => {
          const problem = verdict(
            status,
            body,
            headers ?? {},
            String((context as Expectation).expected),
          );
          const key = problem.key;
          answers[key] = (answers[key] ?? 0) + 1;
          if (problem.violation) {
            nonContract++;
            if (examples.length < 5) examples.push(problem.violation);
          }
        },
      },
    ],
  });
  const seconds = (performance.now() - started) / 1000;
  const completed = Object.values(answers).reduce((a, b) => a + b, 0);
  return {
    name,
    requested: amount,
    completed,
    seconds,
    requestsPerSecond: completed / seconds,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    answers,
    nonContract,
    examples,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

/** Whether one answer is the contract's answer to a request that expected `expected`. */
function verdict(
  status: number,
  body: string,
  headers: Record<string, string | string[] | undefined>,
  expected: string,
): { key: string; violation?: string } {
  const checked = checkAnswer({ status, headers, body }, { localRoutes: true });
  const key =
    checked.parsed?.kind === 'problem' ? `${status}:${checked.parsed.code}` : String(status);
  const parsed = checked.parsed;
  if (!parsed)
    return { key, violation: `${status} ${body.slice(0, 200)}: ${checked.violations.join('; ')}` };
  const requestId = headerValue(headers, 'apigw-requestid');
  if (!requestId) return { key, violation: `${status} without apigw-requestid` };
  if (expected === 'ok') {
    if (parsed.kind !== 'ok')
      return { key, violation: `expected 200, got ${status} ${body.slice(0, 200)}` };
    return { key };
  }
  const want = ERROR_CODES[expected];
  if (
    !want ||
    parsed.kind !== 'problem' ||
    status !== want.status ||
    parsed.code !== want.code ||
    parsed.errcode !== want.errcode ||
    parsed.requestId !== requestId
  )
    return {
      key,
      violation: `${expected}: expected ${JSON.stringify(want)}, got ${status} ${body.slice(0, 200)}`,
    };
  return { key };
}

function headerValue(
  headers: Record<string, string | string[] | undefined>,
  name: string,
): string | undefined {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}

interface Server {
  readonly child: ChildProcess;
  readonly url: string;
  stop(): Promise<void>;
}

async function startServer(): Promise<Server> {
  const child = fork(new URL('./server-child.ts', import.meta.url), [], {
    execArgv: ['--expose-gc', ...SERVER_V8_FLAGS],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const [message] = (await Promise.race([
    once(child, 'message'),
    once(child, 'exit').then(([code]) => {
      throw new Error(`the load server exited with ${code} before listening`);
    }),
  ])) as [ToParent];
  if (message.type !== 'listening') throw new Error(`unexpected message ${message.type}`);
  return {
    child,
    url: message.url,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.send({ type: 'stop' } satisfies ToChild);
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The server's VmRSS and V8 heap in use, in MiB, after a full GC in the server. */
async function settledMemory(server: Server): Promise<{ rss: number; heapUsed: number }> {
  const done = once(server.child, 'message');
  server.child.send({ type: 'gc' } satisfies ToChild);
  const [message] = (await done) as [ToParent];
  const heapUsed = message.type === 'gc-done' ? message.memory.heapUsed / 2 ** 20 : Number.NaN;
  return { rss: readStatus(server.child.pid, 'VmRSS'), heapUsed };
}

/** The report as the table `npm run load` prints. */
export function formatReport(report: LoadReport): string {
  const rows = [
    [
      'phase',
      'requests',
      'conns',
      'req/s',
      'p50 ms',
      'p99 ms',
      'max ms',
      'non-contract',
      'answers',
    ],
    ...report.phases.map((p) => [
      p.name,
      String(p.completed),
      String(CONNECTIONS),
      p.requestsPerSecond.toFixed(0),
      String(p.p50Ms),
      String(p.p99Ms),
      String(p.maxMs),
      String(p.nonContract),
      Object.entries(p.answers)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([key, n]) => `${key}=${n}`)
        .join(' '),
    ]),
  ];
  const widths =
    rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length))) ?? [];
  const table = rows.map((row) =>
    row
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd(),
  );
  const { afterWarmup, afterRuns, peak } = report.rssMiB;
  const heap = report.heapUsedMiB;
  const logins = report.phases.slice(1).reduce((n, p) => n + (p.answers['200'] ?? 0), 0);
  const perLogin = ((heap.afterRuns - heap.afterWarmup) * 2 ** 20) / Math.max(1, logins);
  return [
    ...table,
    '',
    `server RSS (VmRSS after GC): ${afterWarmup.toFixed(1)} MiB after warm-up, ${afterRuns.toFixed(1)} MiB after the runs, ` +
      `growth ${report.rssGrowthMiB.toFixed(1)} MiB (bound ${RSS_GROWTH_BOUND_MIB} MiB); peak VmHWM ${peak.toFixed(1)} MiB`,
    `server V8 heap in use after GC: ${heap.afterWarmup.toFixed(1)} -> ${heap.afterRuns.toFixed(1)} MiB ` +
      `(${perLogin.toFixed(0)} bytes per successful login: the sandbox remembers each used code for ` +
      `${SANDBOX_CODE_LIFETIME_MS / 60_000} minutes, up to ${SANDBOX_MAX_REMEMBERED.toLocaleString('en')})`,
    `server V8 flags: ${SERVER_V8_FLAGS.join(' ')}`,
    `server process: ${report.crashed ? 'DIED' : 'alive until stopped'}`,
    report.failures.length === 0 ? 'PASS' : `FAIL\n  ${report.failures.join('\n  ')}`,
  ].join('\n');
}

if (import.meta.main) {
  const short = process.argv.includes('--short');
  process.stdout.write(
    `load: local server (sandbox) on 127.0.0.1, ${CONNECTIONS} connections, node ${process.version}${short ? ', --short' : ''}\n`,
  );
  const report = await runLoad({ short });
  process.stdout.write(`${formatReport(report)}\n`);
  process.exitCode = report.failures.length === 0 ? 0 : 1;
}
