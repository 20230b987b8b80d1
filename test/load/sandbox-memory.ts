/**
 * `node test/load/sandbox-memory.ts [--logins N] [--connections N]`: the memory of the
 * `npm start` sandbox under many logins. It starts `node functions/local/server.ts` (what
 * `npm start` runs, with no V8 flags) with PORT=0 and no WeChat credentials. It then sends N
 * logins (300,000 by default, 32 at a time), each with a new code, and prints the server's
 * VmRSS at the start, after every 50,000 answers and at the end: as it is, and after a full
 * GC (test/load/gc-on-request.ts, preloaded with --expose-gc), with the V8 heap still in use.
 *
 * This is a measurement, not a test. It asserts nothing about memory or time, and `npm test`
 * does not run it. It exits non-zero only when the logins did not all succeed, because then
 * the figures would not be those of N logins.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import type { Retained } from './gc-on-request.ts';
import { readStatus } from './proc-status.ts';

const SERVER = new URL('../../functions/local/server.ts', import.meta.url);
const GC_ON_REQUEST = new URL('./gc-on-request.ts', import.meta.url);
const SAMPLE_EVERY = 50_000;

interface Sample {
  readonly answered: number;
  readonly seconds: number;
  readonly rssMiB: number;
  readonly retained: Retained;
}

interface Sandbox {
  readonly child: ChildProcess;
  /** The login endpoint on 127.0.0.1. */
  readonly url: string;
  stop(): Promise<void>;
}

/** Starts the local server as `npm start` does, without credentials, and waits for its banner. */
async function startSandbox(): Promise<Sandbox> {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('WECHAT_')),
  );
  const child = spawn(
    process.execPath,
    ['--expose-gc', '--import', GC_ON_REQUEST.href, SERVER.pathname],
    { env: { ...env, PORT: '0' }, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] },
  );
  let banner = '';
  let listening = false;
  const port = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner: ${banner}`)), 30_000);
    child.once('exit', (code) => reject(new Error(`the server exited with ${code}`)));
    // Read on after the banner, into nothing: a full pipe would stall the server's log lines.
    child.stdout?.on('data', (chunk: Buffer) => {
      if (listening) return;
      banner += chunk.toString();
      const match = /listening on http:\/\/localhost:(\d+)\/openid \(sandbox mode/.exec(banner);
      if (match?.[1]) {
        listening = true;
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
  });
  return {
    child,
    url: `http://127.0.0.1:${port}/openid`,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Sends `logins` logins with new codes and samples the server's VmRSS as they are answered. */
async function measure(sandbox: Sandbox, logins: number, connections: number) {
  const pid = sandbox.child.pid;
  const prefix = `mem${Date.now().toString(36)}`;
  const started = performance.now();
  // One sample at a time: each waits for the answer to its own `gc`.
  let sampling = Promise.resolve();
  const samples: Sample[] = [];
  const sample = (answered: number) => {
    const seconds = (performance.now() - started) / 1000;
    const rssMiB = readStatus(pid, 'VmRSS');
    sampling = sampling.then(async () => {
      const answer = once(sandbox.child, 'message');
      sandbox.child.send('gc');
      const [retained] = (await answer) as [Retained];
      samples.push({ answered, seconds, rssMiB, retained });
    });
    return sampling;
  };
  await sample(0);
  const answers: Record<string, number> = {};
  let sent = 0;
  let answered = 0;
  const result = await autocannon({
    url: sandbox.url,
    connections,
    amount: logins,
    timeout: 10,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        setupRequest: (request) => ({
          ...request,
          body: JSON.stringify({ code: `${prefix}-${(sent++).toString(36)}` }),
        }),
        onResponse: (status) => {
          answers[status] = (answers[status] ?? 0) + 1;
          answered++;
          if (answered % SAMPLE_EVERY === 0 && answered < logins) void sample(answered);
        },
      },
    ],
  });
  await sample(answered);
  return {
    samples,
    answers,
    seconds: (performance.now() - started) / 1000,
    peakMiB: readStatus(pid, 'VmHWM'),
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

const { values } = parseArgs({
  options: {
    logins: { type: 'string', default: '300000' },
    connections: { type: 'string', default: '32' },
  },
});
const logins = Number(values.logins);
const connections = Number(values.connections);
process.stdout.write(
  `sandbox memory: node functions/local/server.ts (PORT=0, sandbox), ${logins} logins with new codes, ` +
    `${connections} connections, node ${process.version}\n`,
);
const sandbox = await startSandbox();
try {
  const run = await measure(sandbox, logins, connections);
  const mib = (n: number, width: number) => n.toFixed(1).padStart(width);
  const rows = run.samples.map(
    (s) =>
      `${String(s.answered).padStart(7)}  ${s.seconds.toFixed(1).padStart(7)}  ${mib(s.rssMiB, 9)}` +
      `  ${mib(s.retained.rssMiB, 12)}  ${mib(s.retained.heapUsedMiB, 17)}`,
  );
  const answers = Object.entries(run.answers)
    .map(([status, n]) => `${status}=${n}`)
    .join(' ');
  process.stdout.write(
    [
      'answers  seconds  VmRSS MiB  after GC MiB  heap after GC MiB',
      ...rows,
      `peak (VmHWM) ${run.peakMiB.toFixed(1)} MiB; ${run.seconds.toFixed(1)} s, ` +
        `${(logins / run.seconds).toFixed(0)} logins/s; answers ${answers}; ` +
        `${run.errors} errors, ${run.timeouts} timeouts`,
      '',
    ].join('\n'),
  );
  if (run.answers[200] !== logins || run.errors + run.timeouts > 0) {
    process.stdout.write(`not every login succeeded: the figures are not those of ${logins}\n`);
    process.exitCode = 1;
  }
} finally {
  await sandbox.stop();
}
