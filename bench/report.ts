import type { LoopSummary } from './bench-process.ts';
import type { ProfileEntry } from './profile.ts';
import { type BenchResults, pick, type VariantResult } from './results.ts';
import { kib, ms, ratio, type Spread } from './stats.ts';

/**
 * The bench's figures as markdown tables, one per block of docs/performance.md. Tables only:
 * the words around them are written by hand, so no sentence depends on a number.
 */

/**
 * List prices (us-east-1) and the assumed latencies of the cost table. KMS: requests involving
 * RSA 2048 keys and the key-month, from https://aws.amazon.com/kms/pricing/ (asymmetric
 * requests are outside the KMS free tier, so none is taken off).
 */
const PRICES = {
  apiPerMillion: 1.0,
  lambdaPerMillion: 0.2,
  lambdaGbSecond: 0.0000133334,
  smPer10k: 0.05,
  secretMonth: 0.4,
  kmsRsa2048Per10k: 0.03,
  kmsKeyMonth: 1.0,
  wechatMs: 60,
  /** An in-region KMS Sign, assumed: moto on loopback says nothing about the real service. */
  kmsSignMs: 10,
};

/** KMS's default RSA cryptographic request rate per account and Region, shared by every RSA key. */
export const KMS_RSA_QUOTA_PER_SECOND = 500;

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
  const metrics: Row[] = [
    [
      'bundle, raw',
      (v) => `${kib(v.size.raw)}${v.id === 'tutorial' ? ` (${v.size.files} files)` : ''}`,
      (v) => v.size.raw,
    ],
    ['bundle, gzip -9', (v) => kib(v.size.gzip), (v) => v.size.gzip],
    ...timingRows(results),
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
    ...sessionVerdicts(results, verdict),
    [
      '≤ 1 Secrets Manager call per environment per TTL',
      `cold starts, warm rounds, ${ttl.seconds.toFixed(1)} s at a ${ttl.ttlSeconds} s TTL`,
      `${ours.cold.smCallsPerColdStart} per cold start; ${warmSm} warm; ${ttl.smCalls} at the short TTL (allowed ${ttlAllowed})`,
      '',
      verdict(ours.cold.smCallsPerColdStart <= 1 && warmSm === 0 && ttl.smCalls <= ttlAllowed),
    ],
  ];
}

const warmOf = (key: 'p50' | 'p99', steady: boolean) => (v: VariantResult) =>
  (steady ? v.warm?.steady[key] : v.warm?.[key]) ?? Number.NaN;

/** A table row: its label, the cell of a variant, and the number ratios are taken of. */
type Row = [string, (v: VariantResult) => string, ((v: VariantResult) => number)?];

/** The cold-start, warm and memory rows both comparison tables share. */
function timingRows(results: BenchResults): Row[] {
  const n = results.settings.warmInvocations;
  const cold = results.variants[0]?.cold.wallMs.n ?? 0;
  const warm = (key: 'p50' | 'p99', steady: boolean, label: string): Row => [
    `warm ${key}, ms: ${label}`,
    (v) => ms(warmOf(key, steady)(v)),
    warmOf(key, steady),
  ];
  return [
    [
      `cold start, spawn → first 200, ms (n=${cold})`,
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
    warm('p50', false, `the ${n} after the cold one`),
    warm('p99', false, `the ${n} after the cold one`),
    warm('p50', true, `the next ${n} (steady state)`),
    warm('p99', true, `the next ${n} (steady state)`),
    [
      `peak RSS after ${2 * n} warm invocations, MiB`,
      (v) => (v.warm?.maxRssMb ?? Number.NaN).toFixed(1),
      (v) => v.warm?.maxRssMb ?? Number.NaN,
    ],
  ];
}

/** The session path: ours with sessions on against the sessions baseline, and against ours. */
function sessionsTable(results: BenchResults): string {
  const on = pick(results, 'ours-sessions');
  const bp = pick(results, 'best-practice-sessions');
  const off = pick(results, 'ours');
  const n = results.settings.warmInvocations;
  const counts = (v: VariantResult, op: 'getPublicKey' | 'sign') =>
    (v.warm?.kms?.[op] ?? []).join(' / ');
  const metrics: Row[] = [
    ['bundle, raw', (v) => kib(v.size.raw), (v) => v.size.raw],
    ['bundle, gzip -9', (v) => kib(v.size.gzip), (v) => v.size.gzip],
    ...timingRows(results),
    [
      'GetPublicKey calls per cold start: median (most)',
      (v) => (v.cold.kms ? `${v.cold.kms.getPublicKey} (${v.cold.kms.getPublicKeyMax})` : '–'),
    ],
    [`GetPublicKey calls over ${2 * n} warm invocations`, (v) => counts(v, 'getPublicKey') || '–'],
    ['Sign calls per cold start', (v) => (v.cold.kms ? String(v.cold.kms.sign) : '–')],
    [`Sign calls over ${2 * n} warm invocations`, (v) => counts(v, 'sign') || '–'],
    ['Secrets Manager calls per cold start', (v) => String(v.cold.smCallsPerColdStart)],
  ];
  const delta = (metric: string, a: number, b: number) => {
    const d = a - b;
    if (!Number.isFinite(d)) return 'n/a';
    const size = metric.startsWith('bundle');
    return `${d >= 0 ? '+' : '−'}${size ? kib(Math.abs(d)) : ms(Math.abs(d))}`;
  };
  return table(
    [
      'metric',
      'ours, sessions on',
      'best-practice with sessions',
      'ours, sessions off',
      'on ÷ best-practice with sessions',
      'on − off',
    ],
    metrics.map(([metric, cell, num]) => [
      metric,
      cell(on),
      cell(bp),
      cell(off),
      num ? ratio(num(on), num(bp)) : '',
      num ? delta(metric, num(on), num(off)) : '',
    ]),
  );
}

/** What the session path adds to ours, and where it goes. */
function sessionParts(results: BenchResults): string {
  const on = pick(results, 'ours-sessions');
  const off = pick(results, 'ours');
  const bpOn = pick(results, 'best-practice-sessions');
  const bpOff = pick(results, 'best-practice');
  const { bareSign, keyParse, sessionModuleBytes, clientKmsBytes } = results.sessions;
  const plus = (a: number, b: number) => {
    const d = a - b;
    return Number.isFinite(d) ? `${d >= 0 ? '+' : '−'}${ms(Math.abs(d))}` : 'n/a';
  };
  const steadyOn = on.warm?.steady.p50 ?? Number.NaN;
  const steadyOff = off.warm?.steady.p50 ?? Number.NaN;
  const signP50 = bareSign?.p50 ?? Number.NaN;
  return table(
    ['what the session path adds', 'ours', 'best-practice'],
    [
      [
        'cold start, spawn → first 200: on − off, ms (medians)',
        plus(on.cold.wallMs.median, off.cold.wallMs.median),
        plus(bpOn.cold.wallMs.median, bpOff.cold.wallMs.median),
      ],
      [
        '… of which the import: on − off, ms (medians)',
        plus(on.cold.importMs.median, off.cold.importMs.median),
        plus(bpOn.cold.importMs.median, bpOff.cold.importMs.median),
      ],
      [
        '… of which the first invocation: on − off, ms (medians)',
        plus(on.cold.firstInvocationMs.median, off.cold.firstInvocationMs.median),
        plus(bpOn.cold.firstInvocationMs.median, bpOff.cold.firstInvocationMs.median),
      ],
      [
        'bundle: on − off (raw)',
        `${kib(on.size.raw - off.size.raw)} (one bundle; the session modules are ${kib(sessionModuleBytes)} of it)`,
        `${kib(bpOn.size.raw - bpOff.size.raw)} (\`@aws-sdk/client-kms\` itself: ${kib(clientKmsBytes)})`,
      ],
      [
        "RSA key parsing for the kid (GetPublicKey's DER → JWK, thumbprint): first call in a fresh process, ms",
        spreadCell(keyParse.firstMs),
        '',
      ],
      ['… any later call, ms (median)', ms(keyParse.laterMs), ''],
      [
        'bare keep-alive Sign to moto through the proxy, warm: p50 / p99, ms',
        bareSign ? `${ms(bareSign.p50)} / ${ms(bareSign.p99)}` : 'n/a',
        '',
      ],
      [
        'warm steady p50: on − off, ms',
        plus(steadyOn, steadyOff),
        plus(bpOn.warm?.steady.p50 ?? Number.NaN, bpOff.warm?.steady.p50 ?? Number.NaN),
      ],
      [
        "… less the bare Sign p50: the session path's own time per login, ms",
        ms(steadyOn - steadyOff - signP50),
        ms(
          (bpOn.warm?.steady.p50 ?? Number.NaN) - (bpOff.warm?.steady.p50 ?? Number.NaN) - signP50,
        ),
      ],
    ],
  );
}

/** Self time of ours' cold start with sessions on and off, by group, the largest change first. */
function sessionsProfile(results: BenchResults): string {
  const off = results.profile;
  const on = results.sessions.profile;
  const rows = (pickList: (p: typeof off) => ProfileEntry[], limit: number) => {
    const a = new Map(pickList(off).map((e) => [e.name, e.ms]));
    const b = new Map(pickList(on).map((e) => [e.name, e.ms]));
    return [...new Set([...a.keys(), ...b.keys()])]
      .map((name) => ({ name, off: a.get(name) ?? 0, on: b.get(name) ?? 0 }))
      .sort((x, y) => Math.abs(y.on - y.off) - Math.abs(x.on - x.off))
      .slice(0, limit)
      .map((r) => [
        r.name,
        r.off.toFixed(1),
        r.on.toFixed(1),
        `${r.on >= r.off ? '+' : '−'}${Math.abs(r.on - r.off).toFixed(1)}`,
      ]);
  };
  const sampled = (p: typeof off) => p.byGroup.reduce((sum, g) => sum + g.ms, 0);
  return [
    table(
      ['profile, ms per cold start', 'sessions off', 'sessions on', 'on − off'],
      [
        ['cold starts profiled', String(off.runs), String(on.runs), ''],
        [
          'mean span',
          off.totalMs.toFixed(0),
          on.totalMs.toFixed(0),
          `${(on.totalMs - off.totalMs).toFixed(0)}`,
        ],
        [
          'mean sampled self time',
          sampled(off).toFixed(0),
          sampled(on).toFixed(0),
          `${(sampled(on) - sampled(off)).toFixed(0)}`,
        ],
      ],
    ),
    table(
      ['self time by group, ms', 'sessions off', 'sessions on', 'on − off'],
      rows((p) => p.byGroup, 20),
    ),
    table(
      ['self time by source (largest changes), ms', 'sessions off', 'sessions on', 'on − off'],
      rows((p) => p.bySource, 10),
    ),
  ].join('\n\n');
}

/** The session path's targets: against the sessions baseline, and GetPublicKey's count. */
function sessionVerdicts(results: BenchResults, verdict: (ok: boolean) => string): string[][] {
  const on = pick(results, 'ours-sessions');
  const bp = pick(results, 'best-practice-sessions');
  const n = results.settings.warmInvocations;
  const coldRatio = on.cold.wallMs.median / bp.cold.wallMs.median;
  const warmRow = (steady: boolean, window: string) => {
    const ours = warmOf('p50', steady)(on);
    const theirs = warmOf('p50', steady)(bp);
    const rounds = (v: VariantResult) =>
      ((steady ? v.warm?.steady.rounds : v.warm?.rounds) ?? [])
        .map((r) => precise(r.p50))
        .join(' / ');
    return [
      'sessions: warm p50 ≤ best-practice with sessions',
      window,
      `${precise(ours)} vs ${precise(theirs)} ms`,
      `${rounds(on)} vs ${rounds(bp)}`,
      verdict(ours <= theirs),
    ];
  };
  const coldMost = on.cold.kms?.getPublicKeyMax ?? Number.NaN;
  const warmMost = Math.max(...(on.warm?.kms?.getPublicKey ?? [Number.NaN]));
  return [
    [
      'sessions: cold start ≤ 0.6× best-practice with sessions',
      `${on.cold.wallMs.n} cold starts each, medians`,
      `${coldRatio.toFixed(2)}× (${ms(on.cold.wallMs.median)} vs ${ms(bp.cold.wallMs.median)} ms)`,
      '',
      verdict(coldRatio <= 0.6),
    ],
    warmRow(false, `the ${n} after the cold start`),
    warmRow(true, `the next ${n} (steady state)`),
    [
      'sessions: ≤ 1 GetPublicKey per environment',
      `each cold start, then ${2 * n} warm invocations per round`,
      `at most ${coldMost} per cold start; ${warmMost} warm`,
      '',
      verdict(coldMost <= 1 && warmMost === 0),
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

/** A million logins: ours with sessions off and on, and the tutorial way; see the page. */
function cost(results: BenchResults): string {
  const gb = results.memoryMb / 1024;
  const bareSign = results.sessions.bareSign?.p50 ?? Number.NaN;
  const perVariant = (
    id: VariantResult['id'],
    smCalls: number,
    signs: number,
    ownMs = overheadP50(results, id),
  ) => {
    const billedMs = Math.ceil(ownMs + PRICES.wechatMs + (signs > 0 ? PRICES.kmsSignMs : 0));
    const duration = 1e6 * (billedMs / 1000) * gb * PRICES.lambdaGbSecond;
    const secrets = (smCalls / 10_000) * PRICES.smPer10k + PRICES.secretMonth;
    const kms = signs > 0 ? (signs / 10_000) * PRICES.kmsRsa2048Per10k + PRICES.kmsKeyMonth : 0;
    const total = PRICES.apiPerMillion + PRICES.lambdaPerMillion + duration + secrets + kms;
    return { billedMs, duration, smCalls, secrets, signs, kms, total };
  };
  // A million logins a month, evenly spread, is 0.39 requests/s: one or two warm environments,
  // each reading the secret once per 5 minutes, so at most 2 × 8,640 reads a month.
  const off = perVariant('ours', 2 * 8640, 0);
  // With sessions on, the handler's own time is less the Sign round trip to moto, which the
  // assumed in-region Sign replaces.
  const on = perVariant(
    'ours-sessions',
    2 * 8640,
    1e6,
    Math.max(0, overheadP50(results, 'ours-sessions') - bareSign),
  );
  const tut = perVariant('tutorial', 1e6, 0);
  const calls = (n: number) => n.toLocaleString('en-US');
  const cols = [off, on, tut];
  return table(
    ['per million logins', 'ours, sessions off', 'ours, sessions on', 'tutorial (no sessions)'],
    [
      ['API Gateway HTTP API', ...cols.map(() => money(PRICES.apiPerMillion))],
      ['Lambda requests', ...cols.map(() => money(PRICES.lambdaPerMillion))],
      [
        `Lambda duration at ${results.memoryMb} MB (ms billed: ${cols.map((c) => c.billedMs).join(' / ')})`,
        ...cols.map((c) => money(c.duration)),
      ],
      [
        `Secrets Manager (calls: ${cols.map((c) => calls(c.smCalls)).join(' / ')}; + 1 secret)`,
        ...cols.map((c) => money(c.secrets)),
      ],
      [
        `KMS (Sign requests: ${cols.map((c) => calls(c.signs)).join(' / ')}; + 1 key)`,
        ...cols.map((c) => (c.signs > 0 ? money(c.kms) : '–')),
      ],
      ['**total**', ...cols.map((c) => `**${money(c.total)}**`)],
    ],
  );
}

/** The stage throttle against the account's shared RSA request quota: one Sign per login. */
function kmsQuota(results: BenchResults): string {
  const { rateLimit, burstLimit } = results.throttle;
  const share = (perSecond: number) =>
    `${((100 * perSecond) / KMS_RSA_QUOTA_PER_SECOND).toFixed(0)}%`;
  const left = (perSecond: number) => String(Math.max(0, KMS_RSA_QUOTA_PER_SECOND - perSecond));
  return table(
    [
      'logins at the stage throttle',
      'Sign/s',
      `share of ${KMS_RSA_QUOTA_PER_SECOND}/s`,
      'left for the rest of the account, /s',
    ],
    [
      [
        `steady (\`throttleRateLimit\` ${rateLimit})`,
        String(rateLimit),
        share(rateLimit),
        left(rateLimit),
      ],
      [
        `a burst (\`throttleBurstLimit\` ${burstLimit}), for the moment it lasts`,
        String(burstLimit),
        share(burstLimit),
        left(burstLimit),
      ],
      [
        'the highest steady rate that stays inside the quota alone',
        String(KMS_RSA_QUOTA_PER_SECOND),
        '100%',
        '0',
      ],
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
    sessions: sessionsTable(results),
    'session-parts': sessionParts(results),
    'session-profile': sessionsProfile(results),
    'kms-quota': kmsQuota(results),
  };
}
