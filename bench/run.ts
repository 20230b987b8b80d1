/**
 * `npm run bench`: the shipped artifact against two baselines, and with sessions on against a
 * third, each run in fresh Node.js 24 processes on loopback (moto_server for Secrets Manager
 * and KMS behind harness/fault-proxy.ts, which counts the calls, and a fake WeChat that
 * answers at once). Prints a markdown table,
 * writes bench/results/latest.json and the generated blocks of docs/performance.md. Knobs: BENCH_COLD_RUNS (default
 * 20), BENCH_WARM_INVOCATIONS (default 2000), BENCH_WARM_ROUNDS (default 2).
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildArtifact, PROJECT_ROOT } from '../harness/artifact.ts';
import { loginBundleMetafile } from '../harness/bundle-contents.ts';
import { loginEvent } from '../harness/events.ts';
import { type FakeWechat, startFakeWechat } from '../harness/fake-wechat.ts';
import { type FaultProxy, startFaultProxy } from '../harness/fault-proxy.ts';
import { APP_ID, CODE, referer, singleAppSecret } from '../harness/fixtures.ts';
import type { FirstInvocation, LambdaProcessOptions } from '../harness/lambda-process.ts';
import { MOTO_MISSING, MOTO_REGION, type Moto, motoAvailable, startMoto } from '../harness/moto.ts';
import { DEFAULT_THROTTLE } from '../infra/config.ts';
import { type LoopSummary, startBenchProcess } from './bench-process.ts';
import {
  buildBestPractice,
  buildBestPracticeSessions,
  contributors,
  inputBytes,
  nodeModulesFiles,
  sdkBytes,
  sizes,
  TUTORIAL_ENTRY,
} from './build.ts';
import { probeBuiltins } from './builtins.ts';
import { fillBlocks } from './doc-blocks.ts';
import { probeKeyParse } from './key-parse.ts';
import { profileColdStart, traceWarmGc } from './profile.ts';
import { renderBlocks, renderTable } from './report.ts';
import { type BenchResults, machine, type VariantResult } from './results.ts';
import { median, spread } from './stats.ts';

const COLD_RUNS = positive('BENCH_COLD_RUNS', 20);
const WARM_INVOCATIONS = positive('BENCH_WARM_INVOCATIONS', 2000);
const WARM_ROUNDS = positive('BENCH_WARM_ROUNDS', 2);
const SECRET_NAME = 'weapp-openid/bench';
/** Cold starts of ours profiled, their self times averaged. */
const PROFILE_RUNS = 5;
/** For the TTL check: ours with a 1 s TTL, invoked for about this long. */
const TTL_CHECK_SECONDS = 3;
/** What a session-on variant's tokens name as `iss`. */
const SESSION_ISSUER = 'https://login.bench.example';
/** The modules of ours that only the session path runs (as the metafile names them). */
const SESSION_MODULES = [
  'functions/domain/token.ts',
  'functions/adapters/kms-keys.ts',
  'functions/adapters/jwk.ts',
];

type VariantId = VariantResult['id'];
interface Variant {
  readonly id: VariantId;
  readonly label: string;
  readonly options: LambdaProcessOptions;
  /** Sessions on: the answer must carry a token, and KMS calls are counted. */
  readonly sessions?: true;
}

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
  log('building: cdk synth (the shipped artifact) and esbuild (best-practice baselines)…');
  const [artifact, bestPractice, bestPracticeSessions, ourMetafile] = await Promise.all([
    buildArtifact(),
    buildBestPractice(),
    buildBestPracticeSessions(),
    loginBundleMetafile(),
  ]);

  const moto: Moto = await startMoto();
  cleanups.push(() => moto.stop());
  // In its default 'pass' mode: every call goes through to moto, counted by operation.
  const proxy: FaultProxy = await startFaultProxy(moto.endpoint);
  cleanups.push(() => proxy.close());
  const wechat: FakeWechat = await startFakeWechat();
  cleanups.push(() => wechat.close());
  await moto.createSecret(SECRET_NAME, singleAppSecret());
  // The signing key as the stack creates it (RSA_2048, SIGN_VERIFY), in moto's region.
  const signingKey = await moto.createSigningKey();

  // What the Lambda runtime sets, plus the emulators' endpoints.
  const lambdaEnv: Record<string, string> = {
    ...moto.env,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: proxy.url,
    AWS_DEFAULT_REGION: moto.env.AWS_REGION ?? 'us-east-1',
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
    AWS_LAMBDA_FUNCTION_NAME: 'weapp-openid-bench',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(artifact.memoryMb ?? 256),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    WECHAT_SECRET_ID: SECRET_NAME,
    WECHAT_API_BASE_URL: wechat.url,
  };
  // Sessions on: KMS through the counting proxy too.
  const sessionEnv: Record<string, string> = {
    ...lambdaEnv,
    AWS_ENDPOINT_URL_KMS: proxy.url,
    SESSION_KEY_ID: signingKey.keyId,
    SESSION_ISSUER,
  };
  const withoutNodeOptions = Object.fromEntries(
    Object.entries(artifact.environment).filter(([name]) => name !== 'NODE_OPTIONS'),
  );
  const variants: Variant[] = [
    {
      id: 'ours',
      label: 'ours (shipped artifact)',
      options: {
        module: artifact.entry,
        exportName: artifact.handlerName,
        cwd: artifact.dir,
        env: { ...artifact.environment, ...lambdaEnv },
      },
    },
    {
      id: 'best-practice',
      label: 'best-practice (Powertools, bundled)',
      options: { module: bestPractice.entry, cwd: bestPractice.dir, env: lambdaEnv },
    },
    {
      id: 'tutorial',
      label: 'tutorial (SDK per request, unbundled)',
      options: { module: TUTORIAL_ENTRY, cwd: PROJECT_ROOT, env: lambdaEnv },
    },
    {
      id: 'ours-no-source-maps',
      label: 'ours without NODE_OPTIONS=--enable-source-maps',
      options: {
        module: artifact.entry,
        exportName: artifact.handlerName,
        cwd: artifact.dir,
        env: { ...withoutNodeOptions, ...lambdaEnv },
      },
    },
    {
      id: 'ours-sessions',
      label: 'ours with sessions on (shipped artifact, KMS Sign)',
      sessions: true,
      options: {
        module: artifact.entry,
        exportName: artifact.handlerName,
        cwd: artifact.dir,
        env: { ...artifact.environment, ...sessionEnv },
      },
    },
    {
      id: 'best-practice-sessions',
      label: 'best-practice with sessions (Powertools, @aws-sdk/client-kms, bundled)',
      sessions: true,
      options: {
        module: bestPracticeSessions.entry,
        cwd: bestPracticeSessions.dir,
        env: sessionEnv,
      },
    },
  ];
  const byId = (id: VariantId) => variants.find((v) => v.id === id) as Variant;
  // Every variant but the source-map reference runs the warm rounds.
  const warmVariants = variants.filter((v) => v.id !== 'ours-no-source-maps');
  const event = (n: number | string) =>
    loginEvent(JSON.stringify({ code: CODE }), {
      headers: { referer: referer(APP_ID) },
      requestId: `bench-${n}`,
    });

  log('sizes: which files each variant loads…');
  const loaded = new Map<VariantId, string[]>();
  for (const variant of variants.slice(0, 3)) {
    const child = startBenchProcess({
      ...variant.options,
      firstEvent: event('trace'),
      traceFiles: true,
    });
    try {
      check(variant, (await child.first).result);
      loaded.set(variant.id, await child.loadedFiles());
    } finally {
      await child.close();
    }
  }
  const tutorialFiles = nodeModulesFiles(loaded.get('tutorial') ?? []);
  const artifactFiles = [artifact.entry];

  log(`cold starts: ${COLD_RUNS} runs of each variant, interleaved…`);
  const cold = new Map<VariantId, ColdRun[]>();
  for (let run = 0; run < COLD_RUNS; run++) {
    // Rotate the order so that no variant always runs right after the same one.
    for (let k = 0; k < variants.length; k++) {
      const variant = variants[(run + k) % variants.length] as Variant;
      const result = await coldRun(variant, event(`cold-${run}`));
      cold.set(variant.id, [...(cold.get(variant.id) ?? []), result]);
    }
    process.stderr.write('.');
  }
  process.stderr.write('\n');

  log(
    `warm: ${WARM_ROUNDS} rounds per variant of 2 × ${WARM_INVOCATIONS} sequential invocations (right after the cold one, then steady state)…`,
  );
  const warm = new Map<
    VariantId,
    {
      loop: LoopSummary;
      steady: LoopSummary;
      smCalls: number;
      kms: { getPublicKey: number; sign: number };
    }[]
  >();
  let bareHttp: LoopSummary | undefined;
  let bareSign: LoopSummary | undefined;
  for (let round = 0; round < WARM_ROUNDS; round++) {
    for (let k = 0; k < warmVariants.length; k++) {
      const variant = warmVariants[(round + k) % warmVariants.length] as Variant;
      const child = startBenchProcess({ ...variant.options, firstEvent: event('warm-first') });
      try {
        check(variant, (await child.first).result);
        proxy.resetCounts();
        wechat.reset();
        const loop = await child.loop(event(`warm-${round}`), WARM_INVOCATIONS);
        const smCalls = proxy.count('GetSecretValue');
        wechat.reset();
        const steady = await child.loop(event(`steady-${round}`), WARM_INVOCATIONS);
        const kms = { getPublicKey: proxy.count('GetPublicKey'), sign: proxy.count('Sign') };
        for (const summary of [loop, steady]) {
          if (summary.failures > 0) {
            throw new Error(
              `${variant.id}: ${summary.failures} warm invocations failed: ${JSON.stringify(summary.lastFailure)}`,
            );
          }
        }
        warm.set(variant.id, [...(warm.get(variant.id) ?? []), { loop, steady, smCalls, kms }]);
        // The loopback round-trip alone, in the same warm process, for the handler's own overhead.
        if (variant.id === 'ours' && !bareHttp) {
          bareHttp = await child.httpLoop(
            `${wechat.url}/sns/jscode2session?appid=${APP_ID}&secret=x&js_code=${CODE}&grant_type=authorization_code`,
            WARM_INVOCATIONS,
          );
        }
        // A bare Sign to moto through the proxy, in the same warm process: the KMS round trip.
        if (variant.id === 'ours-sessions' && !bareSign) {
          bareSign = await child.postLoop(
            proxy.url,
            {
              'content-type': 'application/x-amz-json-1.1',
              'x-amz-target': 'TrentService.Sign',
              authorization: `AWS4-HMAC-SHA256 Credential=testing/20260101/${MOTO_REGION}/kms/aws4_request, SignedHeaders=host, Signature=0`,
            },
            JSON.stringify({
              KeyId: signingKey.keyId,
              Message: Buffer.from(sampleSigningInput()).toString('base64'),
              MessageType: 'RAW',
              SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256',
            }),
            WARM_INVOCATIONS,
          );
        }
      } finally {
        await child.close();
      }
    }
  }

  log(`TTL check: ours with SECRET_CACHE_TTL_SECONDS=1 for about ${TTL_CHECK_SECONDS} s…`);
  const ttlCheck = await checkTtl(byId('ours'), proxy, event('ttl'));

  log(`profile: ${PROFILE_RUNS} cold starts of ours under --cpu-prof…`);
  const profile = await profileColdStart(
    { ...byId('ours').options, firstEvent: event('profile') },
    PROFILE_RUNS,
  );
  log(`profile: ${PROFILE_RUNS} cold starts of ours with sessions on under --cpu-prof…`);
  const sessionsProfile = await profileColdStart(
    { ...byId('ours-sessions').options, firstEvent: event('profile-sessions') },
    PROFILE_RUNS,
  );

  log('GC: one warm process of ours under --trace-gc…');
  const gc = await traceWarmGc(
    { ...byId('ours').options, firstEvent: event('gc') },
    WARM_INVOCATIONS,
  );

  log(`builtins: node:http(s)/crypto each way, ${COLD_RUNS} fresh processes each…`);
  const builtins = await probeBuiltins(COLD_RUNS);

  log(`key parsing: GetPublicKey's answer → JWK and kid, ${COLD_RUNS} fresh processes…`);
  const { PublicKey } = await moto.kms('GetPublicKey', { KeyId: signingKey.keyId });
  const keyParse = await probeKeyParse(String(PublicKey), COLD_RUNS);

  const results: BenchResults = {
    date: new Date().toISOString(),
    machine: machine(),
    command: 'npm run bench',
    settings: { coldRuns: COLD_RUNS, warmInvocations: WARM_INVOCATIONS, warmRounds: WARM_ROUNDS },
    memoryMb: artifact.memoryMb ?? 256,
    throttle: DEFAULT_THROTTLE,
    variants: variants.map((variant): VariantResult => {
      const runs = cold.get(variant.id) ?? [];
      const loops = warm.get(variant.id) ?? [];
      const size =
        variant.id === 'tutorial'
          ? { ...sizes(tutorialFiles), note: 'files loaded from node_modules (unbundled)' }
          : variant.id === 'best-practice'
            ? sizes([bestPractice.entry])
            : variant.id === 'best-practice-sessions'
              ? sizes([bestPracticeSessions.entry])
              : sizes(artifactFiles);
      return {
        id: variant.id,
        label: variant.label,
        size,
        cold: {
          wallMs: spread(runs.map((r) => r.first.wallMs)),
          importMs: spread(runs.map((r) => r.first.importMs)),
          beforeTimeOriginMs: spread(runs.map((r) => r.first.wallMs - r.first.sinceProcessStartMs)),
          beforeImportMs: spread(
            runs.map((r) => r.first.sinceProcessStartMs - r.first.importMs - r.first.ms),
          ),
          builtinsLoaded: median(runs.map((r) => r.first.builtinsLoaded)),
          firstInvocationMs: spread(runs.map((r) => r.first.ms)),
          maxRssMb: spread(runs.map((r) => r.first.maxRssKb / 1024)),
          smCallsPerColdStart: median(runs.map((r) => r.smCalls)),
          ...(variant.sessions && {
            kms: {
              getPublicKey: median(runs.map((r) => r.kms.getPublicKey)),
              getPublicKeyMax: Math.max(...runs.map((r) => r.kms.getPublicKey)),
              sign: median(runs.map((r) => r.kms.sign)),
            },
          }),
          wallSamplesMs: runs.map((r) => Math.round(r.first.wallMs * 100) / 100),
        },
        ...(loops.length > 0 && {
          warm: {
            invocations: WARM_INVOCATIONS,
            rounds: loops.map((l) => l.loop),
            p50: median(loops.map((l) => l.loop.p50)),
            p99: median(loops.map((l) => l.loop.p99)),
            steady: {
              rounds: loops.map((l) => l.steady),
              p50: median(loops.map((l) => l.steady.p50)),
              p99: median(loops.map((l) => l.steady.p99)),
            },
            smCalls: loops.map((l) => l.smCalls),
            ...(variant.sessions && {
              kms: {
                getPublicKey: loops.map((l) => l.kms.getPublicKey),
                sign: loops.map((l) => l.kms.sign),
              },
            }),
            maxRssMb: Math.max(...loops.map((l) => l.steady.maxRssKb / 1024)),
          },
        }),
      };
    }),
    bareHttp,
    ttlCheck,
    bundle: {
      ours: contributors(ourMetafile),
      bestPractice: contributors(bestPractice.metafile),
      sourceMapBytes: sizes([`${artifact.entry}.map`]).raw,
      sdkBytes: { ours: sdkBytes(ourMetafile), bestPractice: sdkBytes(bestPractice.metafile) },
    },
    profile,
    sessions: {
      bareSign,
      keyParse,
      sessionModuleBytes: inputBytes(ourMetafile, SESSION_MODULES),
      clientKmsBytes: contributors(bestPracticeSessions.metafile, Number.POSITIVE_INFINITY)
        .filter((c) => c.name === '@aws-sdk/client-kms')
        .reduce((sum, c) => sum + c.bytes, 0),
      profile: sessionsProfile,
    },
    gc,
    builtins,
    elapsedSeconds: (performance.now() - started) / 1000,
  };

  const table = renderTable(results);
  process.stdout.write(`\n${table}\n`);
  const resultsDir = fileURLToPath(new URL('./results/', import.meta.url));
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(`${resultsDir}latest.json`, `${JSON.stringify(results, null, 2)}\n`);
  const page = fileURLToPath(new URL('../docs/performance.md', import.meta.url));
  writeFileSync(page, fillBlocks(readFileSync(page, 'utf8'), renderBlocks(results)));
  log(
    `done in ${results.elapsedSeconds.toFixed(0)} s: bench/results/latest.json, docs/performance.md`,
  );

  /** Spawns, invokes once, and reports how many secret reads and KMS calls reached moto. */
  async function coldRun(variant: Variant, firstEvent: ReturnType<typeof event>): Promise<ColdRun> {
    proxy.resetCounts();
    wechat.reset();
    const child = startBenchProcess({ ...variant.options, firstEvent });
    try {
      const first = await child.first;
      check(variant, first.result, first.error);
      return {
        first,
        smCalls: proxy.count('GetSecretValue'),
        kms: { getPublicKey: proxy.count('GetPublicKey'), sign: proxy.count('Sign') },
      };
    } finally {
      await child.close();
    }
  }
}

/** Ours with a 1 s TTL: the reads must stay at one per TTL (plus the first). */
async function checkTtl(
  variant: Variant,
  proxy: FaultProxy,
  event: ReturnType<typeof loginEvent>,
): Promise<BenchResults['ttlCheck']> {
  const child = startBenchProcess({
    ...variant.options,
    env: { ...variant.options.env, SECRET_CACHE_TTL_SECONDS: '1' },
    firstEvent: event,
  });
  try {
    proxy.resetCounts();
    await child.first;
    const startedAt = performance.now();
    let invocations = 0;
    while (performance.now() - startedAt < TTL_CHECK_SECONDS * 1000) {
      await child.loop(event, 200);
      invocations += 200;
    }
    const seconds = (performance.now() - startedAt) / 1000;
    return {
      ttlSeconds: 1,
      seconds,
      invocations: invocations + 1,
      smCalls: proxy.count('GetSecretValue'),
    };
  } finally {
    await child.close();
  }
}

interface ColdRun {
  readonly first: FirstInvocation;
  readonly smCalls: number;
  readonly kms: { getPublicKey: number; sign: number };
}

/** A JWS signing input of the size ours signs: header and claims, base64url. */
function sampleSigningInput(): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const iat = Math.floor(Date.now() / 1000);
  return `${part({ alg: 'RS256', typ: 'JWT', kid: 'x'.repeat(43) })}.${part({
    iss: SESSION_ISSUER,
    sub: 'o'.repeat(28),
    aud: APP_ID,
    iat,
    exp: iat + 7200,
    jti: randomUUID(),
  })}`;
}

function check(variant: Variant, result: FirstInvocation['result'], error?: unknown): void {
  const body = result?.body ?? '';
  if (
    result?.statusCode === 200 &&
    /"openid"/.test(body) &&
    (!variant.sessions || /"token"/.test(body))
  )
    return;
  throw new Error(`${variant.id} did not answer 200: ${JSON.stringify(result ?? error)}`);
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
