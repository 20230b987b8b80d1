import os from 'node:os';
import type { LoopSummary } from '../test/support/lambda-process.ts';
import type { BuiltinsCase } from './builtins.ts';
import type { ColdProfile, GcWindow } from './profile.ts';
import { kib, ms, ratio, type Spread } from './stats.ts';

export interface VariantResult {
  readonly id: 'ours' | 'best-practice' | 'tutorial' | 'ours-no-source-maps';
  readonly label: string;
  readonly size: { raw: number; gzip: number; files: number; note?: string };
  readonly cold: {
    /** Parent-side: spawn() → the first 200's result line. */
    readonly wallMs: Spread;
    /** Child-side: the dynamic import alone. */
    readonly importMs: Spread;
    /** Per run: spawn() → the child's time origin, plus the result line's way back (wall − child's own time). */
    readonly beforeTimeOriginMs: Spread;
    /** Per run: the child's time origin → the import (Node.js boot and the harness's start). */
    readonly beforeImportMs: Spread;
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
    /** Bytes of the output from `@aws-sdk/*` and `@smithy/*`. */
    sdkBytes: { ours: number; bestPractice: number };
  };
  readonly profile: ColdProfile;
  /** Ours under --trace-gc, in a separate warm process: the same two windows. */
  readonly gc: { afterCold: GcWindow; steady: GcWindow };
  /** Getting node:http(s)/crypto each way, in fresh processes. */
  readonly builtins: BuiltinsCase[];
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

/** One target checked over one window of the run. */
export interface Verdict {
  readonly target: string;
  readonly window: string;
  readonly measured: string;
  readonly ok: boolean;
  /** For a warm window: the rounds whose own figure disagrees with the verdict, e.g. "1 of 2 rounds over the limit". */
  readonly dissent?: string;
}

/** Pass/fail against the issue's targets: the warm ones once per window. */
export function verdicts(results: BenchResults): Verdict[] {
  const ours = pick(results, 'ours');
  const bp = pick(results, 'best-practice');
  const coldRatio = ours.cold.wallMs.median / bp.cold.wallMs.median;
  const warm = ours.warm;
  const n = results.settings.warmInvocations;
  const warmSm = Math.max(...(warm?.smCalls ?? [Number.NaN]));
  const ttl = results.ttlCheck;
  const ttlAllowed = Math.ceil(ttl.seconds / ttl.ttlSeconds) + 1;
  // Two decimals from 1 ms up, so that a figure just over a limit never prints as the limit.
  const precise = (value: number) =>
    Number.isFinite(value) && value >= 1 ? value.toFixed(2) : ms(value);
  const perRound = (rounds: LoopSummary[] | undefined, key: 'p50' | 'p99') =>
    (rounds ?? []).map((r) => precise(r[key])).join(' / ');
  const afterCold = `the ${n} invocations right after the cold start`;
  const steady = `the next ${n} (steady state)`;
  const warmRow = (
    key: 'p50' | 'p99',
    limit: number,
    window: string,
    value: number | undefined,
    rounds: LoopSummary[] | undefined,
  ): Verdict => {
    const ok = (value ?? Number.POSITIVE_INFINITY) <= limit;
    const all = rounds ?? [];
    const over = all.filter((r) => r[key] > limit).length;
    const dissent = ok
      ? over > 0 && `${over} of ${all.length} rounds over the limit`
      : over < all.length && `${all.length - over} of ${all.length} rounds within it`;
    return {
      target: `warm ${key} ≤ ${limit} ms`,
      window,
      measured: `${precise(value ?? Number.NaN)} ms (median of the rounds: ${perRound(rounds, key)})`,
      ok,
      ...(dissent && { dissent }),
    };
  };
  return [
    {
      target: 'cold start ≤ 0.8× best-practice',
      window: `${ours.cold.wallMs.n} cold starts of each, medians`,
      measured: `${coldRatio.toFixed(2)}× (${ms(ours.cold.wallMs.median)} vs ${ms(bp.cold.wallMs.median)} ms)`,
      ok: coldRatio <= 0.8,
    },
    warmRow('p50', 0.5, afterCold, warm?.p50, warm?.rounds),
    warmRow('p50', 0.5, steady, warm?.steady.p50, warm?.steady.rounds),
    warmRow('p99', 2, afterCold, warm?.p99, warm?.rounds),
    warmRow('p99', 2, steady, warm?.steady.p99, warm?.steady.rounds),
    {
      target: '≤ 1 Secrets Manager call per environment per TTL',
      window: `cold starts, ${n} warm invocations per round, and a ${ttl.seconds.toFixed(1)} s run with a ${ttl.ttlSeconds} s TTL`,
      measured: `1 per cold start, ${warmSm} over ${n} warm invocations; ${ttl.smCalls} in ${ttl.seconds.toFixed(1)} s with a ${ttl.ttlSeconds} s TTL (allowed ${ttlAllowed})`,
      ok: ours.cold.smCallsPerColdStart <= 1 && warmSm === 0 && ttl.smCalls <= ttlAllowed,
    },
  ];
}

/** The verdicts in one sentence per target, window by window. */
function verdictSummary(list: Verdict[]): string {
  const byTarget = new Map<string, Verdict[]>();
  for (const v of list) byTarget.set(v.target, [...(byTarget.get(v.target) ?? []), v]);
  return [...byTarget]
    .map(([target, windows]) => {
      const verdict = (w: Verdict | undefined) => (w?.ok ? 'met' : 'missed');
      if (windows.length === 1) return `- **${target}: ${verdict(windows[0])}.**`;
      const same = windows.every((w) => w.ok === windows[0]?.ok);
      if (same && windows.every((w) => !w.dissent)) {
        return `- **${target}: ${verdict(windows[0])} in both windows.**`;
      }
      return `- **${target}: ${windows.map((w) => `${verdict(w)} in ${w.window}${w.dissent ? ` (${w.dissent})` : ''}`).join('; ')}.**`;
    })
    .join('\n');
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

Besides: one cold start of ours under \`node --cpu-prof\`; one warm process of ours under
\`node --trace-gc\` (the same two windows; its timings are not used); and, in fresh processes,
what getting \`node:http\`, \`node:https\` and \`node:crypto\` costs by ESM import and by
\`process.getBuiltinModule()\` (\`bench/builtins.ts\`).

## Results

${table}

## Targets

${verdictSummary(verdicts(results))}

Each warm verdict is on the median of the ${results.settings.warmRounds} rounds' figures; the table gives every round.

| target | window | measured | verdict |
|---|---|---|---|
${verdicts(results)
  .map((v) => `| ${v.target} | ${v.window} | ${v.measured} | ${v.ok ? 'met' : '**missed**'} |`)
  .join('\n')}

${warmNotes(results)}

${whatMoved(results)}

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

## The cold start's CPU profile, in detail

${results.profile.runs} cold starts (import + first invocation) of the shipped artifact under
\`node --cpu-prof\` (100 µs sampling), self time attributed through the bundle's source map,
in ms per cold start (the mean over the ${results.profile.runs}). Profiling slows everything down, so read the shares,
not the absolute numbers. Mean profile span: ${results.profile.totalMs.toFixed(0)} ms; ours' median cold start without profiling:
${ms(ours.cold.wallMs.median)} ms (best-practice: ${ms(bp.cold.wallMs.median)} ms).

| by source (top ${Math.min(14, results.profile.bySource.length)}) | self ms |
|---|---:|
${profileRows(results.profile.bySource.slice(0, 14))}

| heaviest functions | self ms |
|---|---:|
${profileRows(results.profile.byFunction)}

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

/** What the warm windows' numbers rest on: the loopback round-trip and the collector. */
function warmNotes(results: BenchResults): string {
  const ours = pick(results, 'ours');
  const n = results.settings.warmInvocations;
  const bare = results.bareHttp;
  const { afterCold, steady } = results.gc;
  const gcLine = (w: GcWindow) =>
    `${count(w.scavenges, 'scavenge')} and ${count(w.major, 'full collection')}, longest pause ${ms(w.maxPauseMs)} ms, ${count(w.pausesOver1Ms, 'pause')} over 1 ms and ${w.pausesOver2Ms} over 2 ms (${ms(w.totalPauseMs)} ms in all)`;
  const tail = Math.ceil(n / 100);
  const reading = (window: string, rounds: LoopSummary[] | undefined, w: GcWindow) => {
    const over = (rounds ?? []).filter((r) => r.p99 > 2);
    if (over.length === 0) return '';
    return `In ${window}, ${over.length} of ${rounds?.length} rounds had a p99 over 2 ms (${over.map((r) => ms(r.p99)).join(', ')} ms). The traced process had ${count(w.pausesOver2Ms, 'pause')} over 2 ms in that window: ${w.pausesOver2Ms >= tail ? `enough, at ${tail} or more, to put a p99 over 2 ms by themselves` : `fewer than the ${tail} it takes to put a p99 over 2 ms by themselves, so, going by the traced process, the collector alone does not account for it; the rest of that tail is not attributed by this bench`}.`;
  };
  return [
    `Every warm figure includes the loopback round-trip to the fake WeChat${bare ? `: a bare keep-alive \`node:http\` GET to it, which runs none of the handler's code (measured once, in ours' warm process after its steady-state window), has p50 ${ms(bare.p50)} ms and p99 ${ms(bare.p99)} ms${bare.p99 > 2 ? ', so on this shared machine the round-trip alone goes over 2 ms at the p99' : ''}` : ''}.`,
    `A p99 over ${n} invocations is set by its ${tail} slowest ones. A garbage-collection pause that lands inside an invocation makes that invocation slow. The separate warm process of ours under \`--trace-gc\` had, in the ${n} invocations right after its cold one, ${gcLine(afterCold)}; in the next ${n}, ${gcLine(steady)}. That process's pauses are not the timed processes' pauses, only the same workload's.`,
    reading(`the ${n} right after the cold start`, ours.warm?.rounds, afterCold),
    reading('steady state', ours.warm?.steady.rounds, steady),
  ]
    .filter(Boolean)
    .join('\n\n');
}

/** How ours got its cold start, and where what is left of it goes: all from this run. */
function whatMoved(results: BenchResults): string {
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
  const ours = pick(results, 'ours');
  const bp = pick(results, 'best-practice');
  const tut = pick(results, 'tutorial');
  const noMaps = pick(results, 'ours-no-source-maps');
  const sdk = results.bundle.sdkBytes;
  const probe = (id: BuiltinsCase['id']) => results.builtins.find((c) => c.id === id);
  const esm = probe('esm');
  const shipped = probe('shipped');
  const none = probe('builtin-only');
  const probeRow = (c: BuiltinsCase | undefined) =>
    c
      ? `| ${c.label} | ${spreadCell(c.ms)} | ${c.modulesLoaded} | ${c.heavy.length > 0 ? c.heavy.map((h) => `\`${h}\``).join(', ') : 'none'} |`
      : '';
  const undici = results.profile.bySource.find((e) => e.name.includes('undici'));
  const group = (prefix: string) =>
    results.profile.byGroup.find((g) => g.name.startsWith(prefix))?.ms ?? 0;
  const sampled = results.profile.byGroup.reduce((sum, g) => sum + g.ms, 0);
  const share = (value: number) => `${((100 * value) / sampled).toFixed(0)}%`;
  const bundleOwn = group('the bundle: functions') + group('the bundle: @smithy');
  const mapsDelta = ours.cold.wallMs.median - noMaps.cold.wallMs.median;
  const mapsImportDelta = ours.cold.importMs.median - noMaps.cold.importMs.median;
  const overlap = overlaps(ours.cold.wallMs, noMaps.cold.wallMs);
  const signed = (value: number) => `${value >= 0 ? '+' : '−'}${ms(Math.abs(value))}`;
  const phases: [string, Spread][] = [
    [
      "spawn() → the child's time origin, and the result line's way back",
      ours.cold.beforeTimeOriginMs,
    ],
    ["Node.js boot → the import (the harness's own start included)", ours.cold.beforeImportMs],
    ['import of the bundle', ours.cold.importMs],
    [
      'first invocation (secret read from moto, WeChat call, both on loopback)',
      ours.cold.firstInvocationMs,
    ],
  ];

  return `## What moved the cold start

Ours' cold start in this run: ${spreadCell(ours.cold.wallMs)} ms, median (p10–p90), against
${ms(bp.cold.wallMs.median)} ms for best-practice and ${ms(tut.cold.wallMs.median)} ms for the tutorial way.

1. **A lean GetSecretValue client on the SDK's own SigV4 signer, not the SDK client.**
   \`functions/adapters/secrets-manager.ts\` makes the one call the function needs, signed by
   \`@smithy/signature-v4\` and sent with \`node:http(s)\`. The bundle is ${kib(ours.size.raw)}
   (${kib(ours.size.gzip)} gzipped) against ${kib(bp.size.raw)} (${kib(bp.size.gzip)}) for the
   best-practice bundle, ${ratio(ours.size.raw, bp.size.raw)}; the AWS SDK's packages
   (\`@aws-sdk/*\`, \`@smithy/*\`) are ${kb(sdk.ours)} of ours and ${kb(sdk.bestPractice)} of
   best-practice. In this run the import takes ${ms(ours.cold.importMs.median)} ms against
   ${ms(bp.cold.importMs.median)} ms, and the first invocation ${ms(ours.cold.firstInvocationMs.median)} ms against
   ${ms(bp.cold.firstInvocationMs.median)} ms (medians). Not all of that is the client: best-practice also
   loads Powertools Logger, and calls WeChat with \`fetch\`, which loads undici on its first call.
2. **\`node:http\`, \`node:https\` and \`node:crypto\` through \`process.getBuiltinModule()\`.**
   Under Node.js 24 the ESM facade of a builtin reads every export when it is created, so
   \`import http from 'node:http'\` fires \`node:http\`'s lazy \`WebSocket\`, \`CloseEvent\` and
   \`MessageEvent\` getters and loads undici, http2, zlib and web streams, none of which the
   function uses. \`functions/adapters/http.ts\` and \`functions/adapters/sha256.ts\` (which
   replaces \`@smithy/hash-node\`) take the three modules through \`process.getBuiltinModule()\`
   instead. Getting them each way in fresh processes, ${esm?.ms.n ?? 0} runs each, ms median (p10–p90):

   | how | ms | Node.js internals loaded | of which heavy |
   |---|---:|---:|---|
   ${[esm, shipped, none].map(probeRow).filter(Boolean).join('\n   ')}

   ${esm && shipped ? `The change saves about ${ms(esm.ms.median - shipped.ms.median)} ms of the import here and ${esm.modulesLoaded - shipped.modulesLoaded} internal modules.` : ''}
   One ESM import of \`node:crypto\` is left in the bundle: \`@smithy/core/serde\`, which the
   signer imports, takes \`getRandomValues\` from it at its top level (for UUIDs the function
   never makes), and its facade loads \`webcrypto\`${shipped && none ? `: ${shipped.modulesLoaded - none.modulesLoaded} more internal module than with no ESM import at all, and a median difference of ${signed(shipped.ms.median - none.ms.median)} ms${overlaps(shipped.ms, none.ms) ? ", within this probe's noise" : ''}` : ''}.
   ${undici ? `The cold starts' CPU profiles still show undici (${undici.ms.toFixed(1)} ms of self time): something else loads it.` : "The cold starts' CPU profiles show no undici."}
   The import of ours loads ${ours.cold.builtinsLoaded} Node.js internals (median, \`process.moduleLoadList\`), best-practice's ${bp.cold.builtinsLoaded}.
3. **Source maps: kept on purpose.** The function runs with
   \`NODE_OPTIONS=--enable-source-maps\` so that the rare \`internal_error\` log line has a stack
   in \`functions/*.ts\`; the ${kb(results.bundle.sourceMapBytes)} map ships beside the bundle.
   Without it (the reference line under the table) the cold start is
   ${ms(noMaps.cold.wallMs.median)} ms against ${ms(ours.cold.wallMs.median)} ms with it
   (${signed(mapsDelta)} ms with), the import ${ms(noMaps.cold.importMs.median)} ms against
   ${ms(ours.cold.importMs.median)} ms (${signed(mapsImportDelta)} ms)${overlap ? '; the p10–p90 ranges of the cold starts overlap, so this run does not separate the cost from the noise' : ''}. The CPU profile puts
   ${group('source maps').toFixed(1)} ms of self time in Node's source-map code (with profiling's slowdown).
4. **Where the rest goes.** Ours' cold start by part, medians over the ${ours.cold.wallMs.n} runs (they need
   not add up to the median total):

   | part | ms: median (p10–p90) |
   |---|---:|
   ${phases.map(([part, value]) => `| ${part} | ${spreadCell(value)} |`).join('\n   ')}

   The first two parts are Node.js starting and the harness, before any of the bundle runs;
   the bundle's share is the import and the first invocation.

   And the CPU profile: ${results.profile.runs} cold starts under \`--cpu-prof\`, self time per cold start
   (their mean: ${sampled.toFixed(0)} ms sampled over a ${results.profile.totalMs.toFixed(0)} ms span; profiling
   slows everything, so read the shares):

   | self time in | ms | share |
   |---|---:|---:|
   ${results.profile.byGroup.map((g) => `| ${g.name} | ${g.ms.toFixed(1)} | ${share(g.ms)} |`).join('\n   ')}

   The bundle's own code (\`functions/*\` and the \`@smithy/*\` signer) is ${bundleOwn.toFixed(1)} ms of it
   (${share(bundleOwn)}); the rest is Node.js and V8 themselves: booting, compiling builtins
   and the bundle, the ESM loader, networking, and waiting on the loopback services.`;
}

/** Whether two samples' p10–p90 ranges overlap. */
function overlaps(a: Spread, b: Spread): boolean {
  return a.p10 <= b.p90 && b.p10 <= a.p90;
}

/** `1 pause`, `3 pauses`. */
function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
