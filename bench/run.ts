/**
 * `npm run bench [-- --profile]`: the shipped artifact against the baselines, with sessions off
 * and on, users and open data on, each variant run in fresh Node.js 24 processes on loopback
 * (moto_server for Secrets Manager, KMS and DynamoDB behind harness/fault-proxy.ts, which counts
 * the calls, and a fake WeChat that
 * answers at once). Prints the comparison tables and the verdicts, writes
 * bench/results/latest.json and the generated blocks of docs/performance.md. `--profile` also
 * writes CPU profiles of ours' cold starts and a GC trace of its warm invocations to
 * bench/results/profile/. Knobs: BENCH_COLD_RUNS (default 20), BENCH_WARM_INVOCATIONS (default
 * 2000), BENCH_WARM_ROUNDS (default 2).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { buildArtifact, PROJECT_ROOT } from '../harness/artifact.ts';
import { loginEvent } from '../harness/events.ts';
import { startFakeWechat } from '../harness/fake-wechat.ts';
import { startFaultProxy } from '../harness/fault-proxy.ts';
import { APP_ID, CODE, OPENID, referer, singleAppSecret } from '../harness/fixtures.ts';
import {
  type FirstInvocation,
  type LambdaProcess,
  type LambdaProcessOptions,
  startLambdaProcess,
} from '../harness/lambda-process.ts';
import { MOTO_MISSING, MOTO_REGION, motoAvailable, startMoto } from '../harness/moto.ts';
import { LOGIN_ESBUILD_OPTIONS } from '../infra/bundling.ts';
import { fillBlocks } from './doc-blocks.ts';
import {
  type BenchResults,
  headline,
  machine,
  OPERATIONS,
  type Operation,
  renderBlocks,
  type VariantResult,
  verdicts,
} from './report.ts';
import { median, spread } from './stats.ts';

const COLD_RUNS = positive('BENCH_COLD_RUNS', 20);
const WARM_INVOCATIONS = positive('BENCH_WARM_INVOCATIONS', 2000);
const WARM_ROUNDS = positive('BENCH_WARM_ROUNDS', 2);
const PROFILE = process.argv.includes('--profile');
/** With --profile: cold starts profiled per variant. */
const PROFILE_RUNS = 5;
const SECRET_NAME = 'weapp-openid/bench';
const USERS_TABLE = 'weapp-openid-bench-users';
/** Open data's own table, so that the sealed session_key never lands on the others' item. */
const OPEN_DATA_USERS_TABLE = 'weapp-openid-bench-open-data-users';
/** For the TTL check: ours with a 1 s TTL, invoked for about this long. */
const TTL_CHECK_SECONDS = 3;
const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));
const COMMANDS = fileURLToPath(new URL('./child-commands.mjs', import.meta.url));
const baseline = (file: string) => fileURLToPath(new URL(`./baselines/${file}`, import.meta.url));

/**
 * Preloaded into one process of the tutorial way, which ships unbundled: every file it loads,
 * written as it exits to the file BENCH_LOADED_FILES names, for its size.
 */
const TRACE_FILES = `data:text/javascript,${encodeURIComponent(`
import { writeFileSync } from 'node:fs';
import { registerHooks } from 'node:module';
const files = new Set();
registerHooks({ load(url, context, next) { if (url.startsWith('file:')) files.add(url); return next(url, context); } });
process.on('exit', () => writeFileSync(process.env.BENCH_LOADED_FILES, JSON.stringify([...files])));`)}`;

interface Variant extends Pick<VariantResult, 'id' | 'name'> {
  readonly options: LambdaProcessOptions;
  /** Its size is the files its process loads from node_modules, not its module's. */
  readonly unbundled?: true;
  readonly coldOnly?: true;
}

interface Loop {
  readonly failures: number;
  readonly p50: number;
  readonly p99: number;
  readonly maxRssKb: number;
  readonly lastFailure?: unknown;
}

type Calls = Record<Operation, number>;

/** Everything started here, closed in reverse order whatever happens. */
const cleanups: (() => Promise<unknown> | undefined)[] = [];
async function cleanUp(): Promise<void> {
  for (const close of cleanups.splice(0).reverse()) await close()?.catch(() => {});
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void cleanUp().finally(() => process.exit(130));
  });
}

async function main(): Promise<void> {
  if (!motoAvailable) throw new Error(MOTO_MISSING);
  const started = performance.now();
  // The machine is shared: its 1-minute load average, every 10 s of the run, goes with the figures.
  const loads = [loadavg()[0] as number];
  const sampler = setInterval(() => loads.push(loadavg()[0] as number), 10_000);
  cleanups.push(async () => clearInterval(sampler));
  const tmp = mkdtempSync(join(tmpdir(), 'weapp-openid-bench-'));
  cleanups.push(async () => rmSync(tmp, { recursive: true, force: true }));
  log('building: cdk synth (the shipped artifact) and esbuild (the best-practice baselines)…');
  const [artifact, bestPractice, bestPracticeSessions, bestPracticeUsers] = await Promise.all([
    buildArtifact(),
    bundle('best-practice', tmp),
    bundle('best-practice-sessions', tmp),
    bundle('best-practice-users', tmp),
  ]);

  const moto = await startMoto();
  cleanups.push(() => moto.stop());
  // In its default 'pass' mode: every call goes through to moto, counted by operation.
  const proxy = await startFaultProxy(moto.endpoint);
  cleanups.push(() => proxy.close());
  const wechat = await startFakeWechat();
  cleanups.push(() => wechat.close());
  await moto.createSecret(SECRET_NAME, singleAppSecret());
  // The signing key as the stack creates it (RSA_2048, SIGN_VERIFY), in moto's region.
  const signingKey = await moto.createSigningKey();
  // The users table and the open data key as the stack creates them.
  await moto.createUsersTable(USERS_TABLE);
  await moto.createUsersTable(OPEN_DATA_USERS_TABLE);
  const openDataKey = await moto.createSymmetricKey();

  // What the Lambda runtime sets, plus the emulators' endpoints; KMS and DynamoDB through the
  // proxy too.
  const lambdaEnv: Record<string, string> = {
    ...moto.env,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: proxy.url,
    AWS_ENDPOINT_URL_KMS: proxy.url,
    AWS_ENDPOINT_URL_DYNAMODB: proxy.url,
    AWS_DEFAULT_REGION: moto.env.AWS_REGION ?? 'us-east-1',
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
    AWS_LAMBDA_FUNCTION_NAME: 'weapp-openid-bench',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(artifact.memoryMb ?? 256),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    WECHAT_SECRET_ID: SECRET_NAME,
    WECHAT_API_BASE_URL: wechat.url,
  };
  // Sessions on: every 200 carries a token signed by KMS Sign.
  const sessionEnv = {
    ...lambdaEnv,
    SESSION_KEY_ID: signingKey.keyId,
    SESSION_ISSUER: 'https://login.bench.example',
  };
  // Users on (with sessions): every login also writes the user's record, one UpdateItem.
  const usersEnv = { ...sessionEnv, USERS_TABLE };
  // Open data on: the record also keeps the session_key, sealed under a data key from KMS.
  const openDataEnv = {
    ...usersEnv,
    USERS_TABLE: OPEN_DATA_USERS_TABLE,
    OPEN_DATA_KEY_ID: openDataKey.keyId,
  };
  const { NODE_OPTIONS: _, ...withoutNodeOptions } = artifact.environment;
  const ours = (env: Record<string, string>, environment = artifact.environment) => ({
    module: artifact.entry,
    exportName: artifact.handlerName,
    cwd: artifact.dir,
    env: { ...environment, ...env },
  });
  const bundled = (entry: string, env: Record<string, string>) => ({
    module: entry,
    cwd: join(entry, '..'),
    env,
  });
  const tutorial = { module: baseline('tutorial.mjs'), cwd: PROJECT_ROOT, env: lambdaEnv };
  // One entry per variant; a comparison of report.ts names the variants it puts side by side.
  const variants: Variant[] = [
    { id: 'ours', name: 'ours', options: ours(lambdaEnv) },
    { id: 'best-practice', name: 'best-practice', options: bundled(bestPractice, lambdaEnv) },
    { id: 'tutorial', name: 'tutorial', options: tutorial, unbundled: true },
    {
      id: 'ours-no-source-maps',
      name: 'ours, no source maps',
      options: ours(lambdaEnv, withoutNodeOptions),
      coldOnly: true,
    },
    { id: 'ours-sessions', name: 'ours, sessions on', options: ours(sessionEnv) },
    {
      id: 'best-practice-sessions',
      name: 'best-practice, sessions on',
      options: bundled(bestPracticeSessions, sessionEnv),
    },
    { id: 'ours-users', name: 'ours, users on', options: ours(usersEnv) },
    {
      id: 'best-practice-users',
      name: 'best-practice, users on',
      options: bundled(bestPracticeUsers, usersEnv),
    },
    { id: 'ours-open-data', name: 'ours, open data on', options: ours(openDataEnv) },
  ];
  const byId = (id: string) => variants.find((v) => v.id === id) as Variant;
  const event = (n: number | string) =>
    loginEvent(JSON.stringify({ code: CODE }), {
      headers: { referer: referer(APP_ID) },
      requestId: `bench-${n}`,
    });
  const calls = (): Calls => {
    const counted = Object.fromEntries(OPERATIONS.map((op) => [op, proxy.count(op)])) as Calls;
    proxy.resetCounts();
    wechat.reset();
    return counted;
  };
  /** A fresh process of the variant, its first invocation checked, closed after `use`. */
  const withProcess = async <T>(
    variant: Variant,
    use: (child: LambdaProcess, first: FirstInvocation) => Promise<T>,
    extra: Partial<LambdaProcessOptions> = {},
  ): Promise<T> => {
    calls();
    const child = startLambdaProcess({
      ...variant.options,
      ...extra,
      firstEvent: event(variant.id),
      commands: COMMANDS,
    });
    try {
      const first = await child.first;
      const body = first.result?.body ?? '';
      const sessions = 'SESSION_KEY_ID' in variant.options.env;
      if (first.result?.statusCode !== 200 || !body.includes(sessions ? '"token"' : '"openid"'))
        throw new Error(
          `${variant.id} did not answer 200: ${JSON.stringify(first.result ?? first.error)}`,
        );
      return await use(child, first);
    } finally {
      await child.close();
    }
  };
  const loop = async (child: LambdaProcess, id: string, command = 'loop', arg = {}) => {
    const summary = await child.send<Loop>(command, {
      event: event(id),
      count: WARM_INVOCATIONS,
      ...arg,
    });
    if (summary.failures > 0)
      throw new Error(
        `${id}: ${summary.failures} of ${command} failed: ${JSON.stringify(summary.lastFailure)}`,
      );
    return summary;
  };
  // The bare round trips, without the handler: a GET to the fake WeChat, and ours' UpdateItem
  // of a login (the same item, expression and answer) through the proxy, unsigned.
  const bareGet = {
    url: `${wechat.url}/sns/jscode2session?appid=${APP_ID}&secret=x&js_code=${CODE}&grant_type=authorization_code`,
  };
  const bareUpdateItem = {
    url: proxy.url,
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': 'DynamoDB_20120810.UpdateItem',
      // moto reads the region from the scope and checks no signature.
      authorization: `AWS4-HMAC-SHA256 Credential=testing/20260101/${MOTO_REGION}/dynamodb/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: JSON.stringify({
      TableName: USERS_TABLE,
      Key: { id: { S: `${APP_ID}#${OPENID}` } },
      UpdateExpression: 'SET createdAt = if_not_exists(createdAt, :now), lastLoginAt = :now',
      ExpressionAttributeValues: { ':now': { N: String(Math.floor(Date.now() / 1000)) } },
      ReturnValues: 'ALL_NEW',
    }),
  };

  log('sizes: the files the tutorial way loads…');
  const loadedList = join(tmp, 'loaded.json');
  await withProcess(byId('tutorial'), async () => {}, {
    nodeArgs: ['--import', TRACE_FILES],
    env: { ...lambdaEnv, BENCH_LOADED_FILES: loadedList },
  });
  const tutorialLoads = (JSON.parse(readFileSync(loadedList, 'utf8')) as string[])
    .map((url) => fileURLToPath(url))
    .filter((file) => file.includes('/node_modules/') && statSync(file).isFile());

  log(`cold starts: ${COLD_RUNS} runs of each of ${variants.length} variants, interleaved…`);
  const cold = new Map<string, { first: FirstInvocation; calls: Calls }[]>();
  for (let run = 0; run < COLD_RUNS; run++) {
    // Rotate the order so that no variant always runs right after the same one.
    for (let k = 0; k < variants.length; k++) {
      const variant = variants[(run + k) % variants.length] as Variant;
      const result = await withProcess(variant, async (_, first) => ({ first, calls: calls() }));
      cold.set(variant.id, [...(cold.get(variant.id) ?? []), result]);
    }
    process.stderr.write('.');
  }
  process.stderr.write('\n');

  const warmVariants = variants.filter((v) => !v.coldOnly);
  log(
    `warm: ${WARM_ROUNDS} rounds per variant of 2 × ${WARM_INVOCATIONS} sequential invocations (right after the cold one, then steady state)…`,
  );
  const warm = new Map<string, { afterCold: Loop; steady: Loop; calls: Calls }[]>();
  let bareHttp: Loop | undefined;
  const bareUpdateItems: Loop[] = [];
  for (let round = 0; round < WARM_ROUNDS; round++) {
    for (let k = 0; k < warmVariants.length; k++) {
      const variant = warmVariants[(round + k) % warmVariants.length] as Variant;
      const result = await withProcess(variant, async (child) => {
        calls();
        const afterCold = await loop(child, `warm-${round}`);
        const steady = await loop(child, `steady-${round}`);
        const counted = calls();
        // The loopback round-trips alone, in the same warm process, for the handler's own time.
        if (variant.id === 'ours' && !bareHttp)
          bareHttp = await loop(child, 'bare', 'httpLoop', bareGet);
        if (variant.id === 'ours-users')
          bareUpdateItems.push(await loop(child, 'bare', 'httpLoop', bareUpdateItem));
        return { afterCold, steady, calls: counted };
      });
      warm.set(variant.id, [...(warm.get(variant.id) ?? []), result]);
    }
  }

  log(`TTL check: ours with SECRET_CACHE_TTL_SECONDS=1 for about ${TTL_CHECK_SECONDS} s…`);
  const oursVariant = byId('ours');
  const ttlCheck = await withProcess(
    oursVariant,
    async (child) => {
      const startedAt = performance.now();
      let invocations = 1;
      while (performance.now() - startedAt < TTL_CHECK_SECONDS * 1000) {
        await child.send('loop', { event: event('ttl'), count: 200 });
        invocations += 200;
      }
      const seconds = (performance.now() - startedAt) / 1000;
      return { ttlSeconds: 1, seconds, invocations, smCalls: calls().GetSecretValue };
    },
    { env: { ...oursVariant.options.env, SECRET_CACHE_TTL_SECONDS: '1' } },
  );

  if (PROFILE) {
    // Cold starts of ours, sessions off and on, under --cpu-prof (a .cpuprofile each, for any
    // profile viewer), and a warm process of ours under --trace-gc, a .log per window.
    const dir = join(RESULTS_DIR, 'profile');
    rmSync(dir, { recursive: true, force: true });
    for (const id of ['ours', 'ours-sessions']) {
      log(`profile: ${PROFILE_RUNS} cold starts of ${id} under --cpu-prof…`);
      const nodeArgs = ['--cpu-prof', `--cpu-prof-dir=${join(dir, id)}`, '--cpu-prof-interval=100'];
      for (let run = 0; run < PROFILE_RUNS; run++)
        await withProcess(byId(id), async () => {}, { nodeArgs });
    }
    log('profile: one warm process of ours under --trace-gc…');
    await withProcess(
      oursVariant,
      async (child) => {
        for (const window of ['after-cold', 'steady']) {
          const from = child.stdout.length;
          await loop(child, `gc-${window}`);
          // The trace goes to stdout, which may arrive a little after a result line.
          await new Promise((resolve) => setTimeout(resolve, 250));
          const lines = child.stdout.slice(from).join('').split('\n');
          const trace = lines.filter((line) => /^\[\d+:/.test(line));
          writeFileSync(join(dir, `gc-${window}.log`), `${trace.join('\n')}\n`);
        }
      },
      { nodeArgs: ['--trace-gc'] },
    );
    log(`profile: written to ${relative(PROJECT_ROOT, dir)}/`);
  }

  const results: BenchResults = {
    date: new Date().toISOString(),
    machine: machine(),
    load: spread(loads),
    settings: { coldRuns: COLD_RUNS, warmInvocations: WARM_INVOCATIONS, warmRounds: WARM_ROUNDS },
    variants: variants.map((variant): VariantResult => {
      const runs = cold.get(variant.id) ?? [];
      const rounds = warm.get(variant.id) ?? [];
      const first = (get: (f: FirstInvocation) => number) => spread(runs.map((r) => get(r.first)));
      const window = (key: 'afterCold' | 'steady') => ({
        p50: median(rounds.map((r) => r[key].p50)),
        p99: median(rounds.map((r) => r[key].p99)),
        rounds: rounds.map((r) => ({ p50: r[key].p50, p99: r[key].p99 })),
      });
      const perOperation = <T>(get: (op: Operation) => T) =>
        Object.fromEntries(OPERATIONS.map((op) => [op, get(op)])) as Record<Operation, T>;
      return {
        id: variant.id,
        name: variant.name,
        size: sizes(variant.unbundled ? tutorialLoads : [variant.options.module]),
        cold: {
          wallMs: first((f) => f.wallMs),
          bootMs: first((f) => f.sinceProcessStartMs - f.importMs - f.ms),
          importMs: first((f) => f.importMs),
          firstInvocationMs: first((f) => f.ms),
          builtinsLoaded: median(runs.map((r) => r.first.builtinsLoaded)),
          maxRssMb: median(runs.map((r) => r.first.maxRssKb / 1024)),
          calls: perOperation((op) => ({
            median: median(runs.map((r) => r.calls[op])),
            most: Math.max(...runs.map((r) => r.calls[op])),
          })),
        },
        ...(rounds.length > 0 && {
          warm: {
            afterCold: window('afterCold'),
            steady: window('steady'),
            calls: perOperation((op) => rounds.map((r) => r.calls[op])),
            maxRssMb: Math.max(...rounds.map((r) => r.steady.maxRssKb / 1024)),
          },
        }),
      };
    }),
    bareHttp: { p50: bareHttp?.p50 ?? Number.NaN, p99: bareHttp?.p99 ?? Number.NaN },
    bareUpdateItem: {
      p50: median(bareUpdateItems.map((l) => l.p50)),
      p99: median(bareUpdateItems.map((l) => l.p99)),
      rounds: bareUpdateItems.map((l) => ({ p50: l.p50, p99: l.p99 })),
    },
    ttlCheck,
    elapsedSeconds: (performance.now() - started) / 1000,
  };

  const blocks = renderBlocks(results);
  process.stdout.write(
    `\n${[blocks.results, blocks.sessions, blocks.users, blocks.targets].join('\n\n')}\n`,
  );
  mkdirSync(RESULTS_DIR, { recursive: true });
  const json = { headline: headline(results), verdicts: verdicts(results), ...results };
  writeFileSync(`${RESULTS_DIR}latest.json`, `${JSON.stringify(json, null, 2)}\n`);
  const page = fileURLToPath(new URL('../docs/performance.md', import.meta.url));
  writeFileSync(page, fillBlocks(readFileSync(page, 'utf8'), blocks));
  log(
    `done in ${results.elapsedSeconds.toFixed(0)} s: bench/results/latest.json, docs/performance.md`,
  );
}

/** A best-practice baseline bundled the stack's way (minified ESM, the SDK inside, no source map). */
async function bundle(name: string, tmp: string): Promise<string> {
  const entry = join(tmp, name, 'index.mjs');
  await build({ ...LOGIN_ESBUILD_OPTIONS, entryPoints: [baseline(`${name}.ts`)], outfile: entry });
  return entry;
}

/** Raw and gzipped size of files taken together (gzip of their concatenation). */
function sizes(files: readonly string[]): VariantResult['size'] {
  const contents = files.map((file) => readFileSync(file));
  const raw = contents.reduce((sum, buffer) => sum + buffer.length, 0);
  return { raw, gzip: gzipSync(Buffer.concat(contents), { level: 9 }).length, files: files.length };
}

function positive(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name} must be a positive whole number`);
  return value;
}

function log(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

try {
  await main();
} catch (error) {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
} finally {
  await cleanUp();
}
