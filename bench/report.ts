import type { LoopSummary } from './bench-process.ts';
import type { ProfileEntry } from './profile.ts';
import { type BenchResults, pick, type VariantResult } from './results.ts';
import { kib, ms, ratio, type Spread } from './stats.ts';

/**
 * The bench's figures as markdown tables, one per block of docs/performance.md. Tables only:
 * the words around them are written by hand, so no sentence depends on a number.
 */

/** List prices (us-east-1) and the assumed code2Session latency of the cost table. */
const PRICES = {
  apiPerMillion: 1.0,
  lambdaPerMillion: 0.2,
  lambdaGbSecond: 0.0000133334,
  smPer10k: 0.05,
  secretMonth: 0.4,
  wechatMs: 60,
};

const spreadCell = (s: Spread) => `${ms(s.median)} (${ms(s.p10)}–${ms(s.p90)})`;
const money = (value: number) => `$${value.toFixed(2)}`;
// Two decimals from 1 ms up, so that a figure just over a limit never prints as the limit.
const precise = (value: number) =>
  Number.isFinite(value) && value >= 1 ? value.toFixed(2) : ms(value);

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  const align = header.map((_, i) => (i === 0 ? '---' : '---:'));
  return [line(header), line(align), ...rows.map(line)].join('\n');
}

/** The headline: ours against both baselines, with ratios. Also printed by `npm run bench`. */
export function renderTable(results: BenchResults): string {
  const ours = pick(results, 'ours');
  const bp = pick(results, 'best-practice');
  const tut = pick(results, 'tutorial');
  const n = results.settings.warmInvocations;
  const warm = (key: 'p50' | 'p99', steady: boolean) => (v: VariantResult) =>
    (steady ? v.warm?.steady[key] : v.warm?.[key]) ?? Number.NaN;
  const metrics: [string, (v: VariantResult) => string, ((v: VariantResult) => number)?][] = [
    [
      'bundle, raw',
      (v) => `${kib(v.size.raw)}${v.id === 'tutorial' ? ` (${v.size.files} files)` : ''}`,
      (v) => v.size.raw,
    ],
    ['bundle, gzip -9', (v) => kib(v.size.gzip), (v) => v.size.gzip],
    [
      `cold start, spawn → first 200, ms (n=${ours.cold.wallMs.n})`,
      (v) => spreadCell(v.cold.wallMs),
      (v) => v.cold.wallMs.median,
    ],
    [
      'cold: module import alone, ms',
      (v) => spreadCell(v.cold.importMs),
      (v) => v.cold.importMs.median,
    ],
    [
      'cold: first invocation alone, ms',
      (v) => spreadCell(v.cold.firstInvocationMs),
      (v) => v.cold.firstInvocationMs.median,
    ],
    [
      'peak RSS after the first invocation, MiB',
      (v) => v.cold.maxRssMb.median.toFixed(1),
      (v) => v.cold.maxRssMb.median,
    ],
    [
      `warm p50, ms: the ${n} after the cold one`,
      (v) => ms(warm('p50', false)(v)),
      warm('p50', false),
    ],
    [
      `warm p99, ms: the ${n} after the cold one`,
      (v) => ms(warm('p99', false)(v)),
      warm('p99', false),
    ],
    [
      `warm p50, ms: the next ${n} (steady state)`,
      (v) => ms(warm('p50', true)(v)),
      warm('p50', true),
    ],
    [
      `warm p99, ms: the next ${n} (steady state)`,
      (v) => ms(warm('p99', true)(v)),
      warm('p99', true),
    ],
    [
      `peak RSS after ${2 * n} warm invocations, MiB`,
      (v) => (v.warm?.maxRssMb ?? Number.NaN).toFixed(1),
      (v) => v.warm?.maxRssMb ?? Number.NaN,
    ],
    ['Secrets Manager calls per cold start', (v) => String(v.cold.smCallsPerColdStart)],
    [
      `Secrets Manager calls over ${n} warm invocations`,
      (v) => (v.warm?.smCalls ?? []).join(' / '),
    ],
  ];
  return table(
    ['metric', 'ours', 'best-practice', 'tutorial', 'ours ÷ best-practice', 'ours ÷ tutorial'],
    metrics.map(([metric, cell, num]) => [
      metric,
      cell(ours),
      cell(bp),
      cell(tut),
      num ? ratio(num(ours), num(bp)) : '',
      num ? ratio(num(ours), num(tut)) : '',
    ]),
  );
}

/** The steady-state p50 less a bare loopback GET's p50: the handler's own time. */
function overheadP50(results: BenchResults, id: VariantResult['id'] = 'ours'): number {
  const warm = pick(results, id).warm;
  return warm && results.bareHttp
    ? Math.max(0, warm.steady.p50 - results.bareHttp.p50)
    : Number.NaN;
}

function references(results: BenchResults): string {
  const ours = pick(results, 'ours');
  const noMaps = pick(results, 'ours-no-source-maps');
  const bare = results.bareHttp;
  const ttl = results.ttlCheck;
  return table(
    ['reference', 'figure'],
    [
      [
        'ours without `NODE_OPTIONS=--enable-source-maps`: cold start, ms',
        spreadCell(noMaps.cold.wallMs),
      ],
      ['ours without source maps: import, ms (median)', ms(noMaps.cold.importMs.median)],
      [
        'ours with source maps, minus without: cold start, ms (medians)',
        ms(ours.cold.wallMs.median - noMaps.cold.wallMs.median),
      ],
      [
        'bare keep-alive `node:http` GET to the fake WeChat: p50 / p99, ms',
        bare ? `${ms(bare.p50)} / ${ms(bare.p99)}` : 'n/a',
      ],
      ["ours' own time per warm invocation (steady p50 − bare p50), ms", ms(overheadP50(results))],
      [
        `Secrets Manager calls with a ${ttl.ttlSeconds} s TTL`,
        `${ttl.smCalls} over ${ttl.invocations} invocations in ${ttl.seconds.toFixed(1)} s`,
      ],
    ],
  );
}

/** The targets, checked once per window; a warm verdict is on the median of the rounds. */
export function verdicts(results: BenchResults): string[][] {
  const ours = pick(results, 'ours');
  const bp = pick(results, 'best-practice');
  const coldRatio = ours.cold.wallMs.median / bp.cold.wallMs.median;
  const n = results.settings.warmInvocations;
  const warmSm = Math.max(...(ours.warm?.smCalls ?? [Number.NaN]));
  const ttl = results.ttlCheck;
  const ttlAllowed = Math.ceil(ttl.seconds / ttl.ttlSeconds) + 1;
  const verdict = (ok: boolean) => (ok ? 'met' : '**missed**');
  const warmRow = (
    key: 'p50' | 'p99',
    limit: number,
    window: string,
    value: number | undefined,
    rounds: LoopSummary[] | undefined,
  ) => [
    `warm ${key} ≤ ${limit} ms`,
    window,
    `${precise(value ?? Number.NaN)} ms`,
    (rounds ?? []).map((r) => precise(r[key])).join(' / '),
    verdict((value ?? Number.POSITIVE_INFINITY) <= limit),
  ];
  const afterCold = `the ${n} after the cold start`;
  const steady = `the next ${n} (steady state)`;
  return [
    [
      'cold start ≤ 0.8× best-practice',
      `${ours.cold.wallMs.n} cold starts each, medians`,
      `${coldRatio.toFixed(2)}× (${ms(ours.cold.wallMs.median)} vs ${ms(bp.cold.wallMs.median)} ms)`,
      '',
      verdict(coldRatio <= 0.8),
    ],
    warmRow('p50', 0.5, afterCold, ours.warm?.p50, ours.warm?.rounds),
    warmRow('p50', 0.5, steady, ours.warm?.steady.p50, ours.warm?.steady.rounds),
    warmRow('p99', 2, afterCold, ours.warm?.p99, ours.warm?.rounds),
    warmRow('p99', 2, steady, ours.warm?.steady.p99, ours.warm?.steady.rounds),
    [
      '≤ 1 Secrets Manager call per environment per TTL',
      `cold starts, warm rounds, ${ttl.seconds.toFixed(1)} s at a ${ttl.ttlSeconds} s TTL`,
      `${ours.cold.smCallsPerColdStart} per cold start; ${warmSm} warm; ${ttl.smCalls} at the short TTL (allowed ${ttlAllowed})`,
      '',
      verdict(ours.cold.smCallsPerColdStart <= 1 && warmSm === 0 && ttl.smCalls <= ttlAllowed),
    ],
  ];
}

function gc(results: BenchResults): string {
  const n = results.settings.warmInvocations;
  const windows = [
    [`the ${n} after the cold one`, results.gc.afterCold],
    [`the next ${n}`, results.gc.steady],
  ] as const;
  return table(
    [
      'window',
      'scavenges',
      'full',
      'longest pause, ms',
      'pauses > 1 ms',
      'pauses > 2 ms',
      'all pauses, ms',
    ],
    windows.map(([name, w]) => [
      name,
      String(w.scavenges),
      String(w.major),
      ms(w.maxPauseMs),
      String(w.pausesOver1Ms),
      String(w.pausesOver2Ms),
      ms(w.totalPauseMs),
    ]),
  );
}

function coldParts(results: BenchResults): string {
  const cold = pick(results, 'ours').cold;
  const bp = pick(results, 'best-practice').cold;
  return table(
    ['part of the cold start, ms: median (p10–p90)', 'ours', 'best-practice'],
    [
      [
        "spawn() → the child's time origin, and the result line's way back",
        spreadCell(cold.beforeTimeOriginMs),
        spreadCell(bp.beforeTimeOriginMs),
      ],
      [
        'Node.js boot → the import (the harness included)',
        spreadCell(cold.beforeImportMs),
        spreadCell(bp.beforeImportMs),
      ],
      ['import of the bundle', spreadCell(cold.importMs), spreadCell(bp.importMs)],
      [
        'first invocation (secret read, WeChat call)',
        spreadCell(cold.firstInvocationMs),
        spreadCell(bp.firstInvocationMs),
      ],
      [
        'Node.js internals the import loads (median)',
        String(cold.builtinsLoaded),
        String(bp.builtinsLoaded),
      ],
    ],
  );
}

function builtins(results: BenchResults): string {
  return table(
    [
      'how node:http, node:https and node:crypto are got',
      'ms: median (p10–p90)',
      'internals loaded',
      'of which heavy',
    ],
    results.builtins.map((c) => [
      c.label,
      spreadCell(c.ms),
      String(c.modulesLoaded),
      c.heavy.length > 0 ? c.heavy.map((h) => `\`${h}\``).join(', ') : 'none',
    ]),
  );
}

function contributors(name: string, list: { name: string; bytes: number }[]): string {
  const total = list.reduce((sum, c) => sum + c.bytes, 0);
  return table(
    [`${name}: input`, 'bytes', 'share'],
    [
      ...list.map((c) => [
        `\`${c.name}\``,
        kib(c.bytes),
        `${((100 * c.bytes) / total).toFixed(0)}%`,
      ]),
      ['**total**', kib(total), ''],
    ],
  );
}

function profile(results: BenchResults): string {
  const { runs, totalMs, byGroup, bySource, byFunction } = results.profile;
  const sampled = byGroup.reduce((sum, g) => sum + g.ms, 0);
  const rows = (entries: ProfileEntry[]) =>
    entries.map((e) => [e.name, e.ms.toFixed(1), `${((100 * e.ms) / sampled).toFixed(0)}%`]);
  return [
    table(
      ['profile', 'figure'],
      [
        ['cold starts profiled', String(runs)],
        ['mean span, ms', totalMs.toFixed(0)],
        ['mean sampled self time, ms', sampled.toFixed(0)],
      ],
    ),
    table(['self time by group', 'ms', 'share'], rows(byGroup)),
    table(['self time by source (top 14)', 'ms', 'share'], rows(bySource.slice(0, 14))),
    table(['heaviest functions', 'ms', 'share'], rows(byFunction)),
  ].join('\n\n');
}

/** A million logins, ours against the tutorial way; see the page for the assumptions. */
function cost(results: BenchResults): string {
  const gb = results.memoryMb / 1024;
  const perVariant = (id: VariantResult['id'], smCalls: number) => {
    const billedMs = Math.ceil(overheadP50(results, id) + PRICES.wechatMs);
    const duration = 1e6 * (billedMs / 1000) * gb * PRICES.lambdaGbSecond;
    const secrets = (smCalls / 10_000) * PRICES.smPer10k + PRICES.secretMonth;
    const total = PRICES.apiPerMillion + PRICES.lambdaPerMillion + duration + secrets;
    return { billedMs, duration, smCalls, secrets, total };
  };
  // A million logins a month, evenly spread, is 0.39 requests/s: one or two warm environments,
  // each reading the secret once per 5 minutes, so at most 2 × 8,640 reads a month.
  const ours = perVariant('ours', 2 * 8640);
  const tut = perVariant('tutorial', 1e6);
  const calls = (n: number) => n.toLocaleString('en-US');
  return table(
    ['per million logins', 'ours', 'tutorial'],
    [
      ['API Gateway HTTP API', money(PRICES.apiPerMillion), money(PRICES.apiPerMillion)],
      ['Lambda requests', money(PRICES.lambdaPerMillion), money(PRICES.lambdaPerMillion)],
      [
        `Lambda duration at ${results.memoryMb} MB (ms billed: ${ours.billedMs} vs ${tut.billedMs})`,
        money(ours.duration),
        money(tut.duration),
      ],
      [
        `Secrets Manager (calls: ${calls(ours.smCalls)} vs ${calls(tut.smCalls)}; + 1 secret)`,
        money(ours.secrets),
        money(tut.secrets),
      ],
      ['**total**', `**${money(ours.total)}**`, `**${money(tut.total)}**`],
    ],
  );
}

function run(results: BenchResults): string {
  const m = results.machine;
  const s = results.settings;
  return table(
    ['run', ''],
    [
      ['date', results.date.slice(0, 10)],
      ['machine', `${m.nproc} cores (${m.cpu}), ${m.memoryGb} GiB, ${m.os}`],
      ['Node.js', m.node],
      ['cold starts per variant', String(s.coldRuns)],
      ['warm rounds × invocations per window', `${s.warmRounds} × ${s.warmInvocations}`],
      ['whole bench, s', results.elapsedSeconds.toFixed(0)],
    ],
  );
}

/** Every generated block of docs/performance.md, by name. */
export function renderBlocks(results: BenchResults): Record<string, string> {
  return {
    run: run(results),
    results: `${renderTable(results)}\n\n${references(results)}`,
    targets: table(['target', 'window', 'measured', 'each round', 'verdict'], verdicts(results)),
    gc: gc(results),
    'cold-parts': coldParts(results),
    builtins: builtins(results),
    bundles: `${contributors('ours', results.bundle.ours)}\n\n${contributors('best-practice', results.bundle.bestPractice)}\n\nSource map shipped beside ours: ${kib(results.bundle.sourceMapBytes)}. \`@aws-sdk/*\` and \`@smithy/*\` output: ${kib(results.bundle.sdkBytes.ours)} of ours, ${kib(results.bundle.sdkBytes.bestPractice)} of best-practice.`,
    profile: profile(results),
    cost: cost(results),
  };
}
