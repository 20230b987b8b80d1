import os from 'node:os';
import { kib, ms, ratio, type Spread } from './stats.ts';

/**
 * The bench's figures: their shape in bench/results/latest.json, and as the markdown tables of
 * docs/performance.md's generated blocks. Tables only: the words around them are written by
 * hand, so no sentence depends on a number.
 */

/** The AWS operations counted at the proxy, per cold start and per warm round. */
export const OPERATIONS = [
  'GetSecretValue',
  'GetPublicKey',
  'Sign',
  'UpdateItem',
  'GenerateDataKey',
] as const;
export type Operation = (typeof OPERATIONS)[number];

/**
 * The comparisons, one generated block each: the first column is ours, the second the baseline
 * its cold start is held to (at most `coldLimit` times the baseline's), the rest for reference.
 * Ours' warm p50 and p99 are held to `warmLimitsMs`, and with `warmNoWorse` its warm p50 to
 * the baseline's.
 */
export const COMPARISONS = [
  {
    block: 'results',
    columns: ['ours', 'best-practice', 'tutorial'],
    operations: ['GetSecretValue'],
    coldLimit: 0.8,
    warmLimitsMs: { p50: 0.5, p99: 2 },
    warmNoWorse: false,
  },
  {
    block: 'sessions',
    columns: ['ours-sessions', 'best-practice-sessions', 'ours'],
    operations: ['GetPublicKey', 'Sign', 'GetSecretValue'],
    coldLimit: 0.6,
    warmLimitsMs: {},
    warmNoWorse: true,
  },
  {
    block: 'users',
    columns: ['ours-users', 'best-practice-users', 'ours-sessions', 'ours-open-data'],
    operations: ['UpdateItem', 'GenerateDataKey', 'Sign'],
    coldLimit: 0.55,
    warmLimitsMs: {},
    warmNoWorse: false,
  },
] as const;

/** Ours' bundle before users and open data, in bytes (the bench of 2026-12-07). */
export const BUNDLE_BEFORE_USERS = 43_848;
/** What users and open data may add to ours' bundle, in bytes. */
const BUNDLE_GROWTH_LIMIT = 6 * 1024;
/** Ours' own time a user record may add to a warm login, beyond its UpdateItem round trip. */
const USERS_OWN_LIMIT_MS = 0.5;

/** A window of warm invocations: the medians over the rounds of each round's p50 and p99. */
export interface Window {
  readonly p50: number;
  readonly p99: number;
  readonly rounds: { readonly p50: number; readonly p99: number }[];
}

export interface VariantResult {
  readonly id: string;
  /** Its column header. */
  readonly name: string;
  readonly size: { raw: number; gzip: number; files: number };
  readonly cold: {
    /** Parent-side: spawn() → the first 200's result line. */
    readonly wallMs: Spread;
    /** Child-side: its time origin → the import (Node.js boot and the harness's start). */
    readonly bootMs: Spread;
    /** Child-side: the dynamic import alone. */
    readonly importMs: Spread;
    /** Child-side: the first invocation alone. */
    readonly firstInvocationMs: Spread;
    /** Node.js internal modules and bindings the import loaded (median). */
    readonly builtinsLoaded: number;
    /** Peak RSS after the first invocation (median). */
    readonly maxRssMb: number;
    /** Calls that reached moto per cold start: median and most over the runs. */
    readonly calls: Record<Operation, { median: number; most: number }>;
  };
  readonly warm?: {
    /** The invocations right after the cold one (JIT warm-up included). */
    readonly afterCold: Window;
    /** The next as many, in the same process. */
    readonly steady: Window;
    /** Calls that reached moto over both windows, per round. */
    readonly calls: Record<Operation, number[]>;
    readonly maxRssMb: number;
  };
}

export interface Verdict {
  readonly target: string;
  readonly window: string;
  readonly measured: string;
  readonly rounds: string;
  readonly met: boolean;
}

export interface BenchResults {
  readonly date: string;
  readonly machine: ReturnType<typeof machine>;
  /** The 1-minute load average, sampled every 10 s over the run. */
  readonly load: Spread;
  readonly settings: { coldRuns: number; warmInvocations: number; warmRounds: number };
  readonly variants: VariantResult[];
  /** A bare keep-alive node:http GET to the same fake WeChat, in ours' warm process. */
  readonly bareHttp: { p50: number; p99: number };
  /** A bare keep-alive UpdateItem (a login's) through the proxy to moto, in ours-users' warm process. */
  readonly bareUpdateItem: Window;
  readonly ttlCheck: { ttlSeconds: number; seconds: number; invocations: number; smCalls: number };
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

function pick(results: BenchResults, id: string): VariantResult {
  const variant = results.variants.find((v) => v.id === id);
  if (!variant) throw new Error(`no results for ${id}`);
  return variant;
}

/** Ours' own time per warm invocation: its steady-state p50 less the bare GET's p50. */
const overheadP50 = (results: BenchResults) =>
  Math.max(0, (pick(results, 'ours').warm?.steady.p50 ?? Number.NaN) - results.bareHttp.p50);

type WindowKey = 'afterCold' | 'steady';

/**
 * What users add to ours' warm login: the p50 with users on less the p50 with sessions on, then
 * less the bare UpdateItem's p50, which leaves ours' own time. `rounds` is the own time of each
 * round (the variants of a round ran one after the other).
 */
function usersAdded(results: BenchResults, window: WindowKey) {
  const [users, sessions] = [pick(results, 'ours-users'), pick(results, 'ours-sessions')];
  const bare = results.bareUpdateItem;
  const added =
    (users.warm?.[window].p50 ?? Number.NaN) - (sessions.warm?.[window].p50 ?? Number.NaN);
  const rounds = (users.warm?.[window].rounds ?? []).map(
    (r, i) =>
      r.p50 -
      (sessions.warm?.[window].rounds[i]?.p50 ?? Number.NaN) -
      (bare.rounds[i]?.p50 ?? Number.NaN),
  );
  return { added, bare: bare.p50, own: added - bare.p50, rounds };
}

/** What open data adds to a login of ours with users on: cold start and warm p50s. */
function openDataAdded(results: BenchResults) {
  const [open, users] = [pick(results, 'ours-open-data'), pick(results, 'ours-users')];
  const warm = (window: WindowKey) =>
    (open.warm?.[window].p50 ?? Number.NaN) - (users.warm?.[window].p50 ?? Number.NaN);
  return {
    coldMs: open.cold.wallMs.median - users.cold.wallMs.median,
    warmAfterColdP50Ms: warm('afterCold'),
    warmSteadyP50Ms: warm('steady'),
  };
}

/** The figures a reader looks for first; the JSON's `headline`. */
export function headline(results: BenchResults) {
  const byId = <T>(get: (v: VariantResult) => T) =>
    Object.fromEntries(results.variants.map((v) => [v.id, get(v)]));
  const ours = pick(results, 'ours-sessions');
  return {
    coldStartMedianMs: byId((v) => v.cold.wallMs.median),
    coldStartRatio: Object.fromEntries(
      COMPARISONS.map(({ columns: [a, b] }) => [
        `${a} ÷ ${b}`,
        pick(results, a).cold.wallMs.median / pick(results, b).cold.wallMs.median,
      ]),
    ),
    warmOverheadP50Ms: overheadP50(results),
    usersWarmSteadyP50Ms: usersAdded(results, 'steady'),
    openDataAddedMs: openDataAdded(results),
    bundleBytes: byId((v) => v.size.raw),
    bundleGrowthSinceUsersBytes: pick(results, 'ours').size.raw - BUNDLE_BEFORE_USERS,
    getPublicKey: {
      perColdStartMost: ours.cold.calls.GetPublicKey.most,
      warmPerRound: ours.warm?.calls.GetPublicKey ?? [],
    },
  };
}

const spreadCell = (s: Spread) => `${ms(s.median)} (${ms(s.p10)}–${ms(s.p90)})`;
// Two decimals from 1 ms up, so that a figure just over a limit never prints as the limit.
const precise = (value: number) =>
  Number.isFinite(value) && value >= 1 ? value.toFixed(2) : ms(value);

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  const align = header.map((_, i) => (i === 0 ? '---' : '---:'));
  return [line(header), line(align), ...rows.map(line)].join('\n');
}

/** A table row: its label, the cell of a variant, and the number ratios are taken of. */
type Row = [string, (v: VariantResult) => string, ((v: VariantResult) => number)?];

function rows(results: BenchResults, operations: readonly Operation[]): Row[] {
  const n = results.settings.warmInvocations;
  const spreadRow = (label: string, get: (v: VariantResult) => Spread): Row => [
    label,
    (v) => spreadCell(get(v)),
    (v) => get(v).median,
  ];
  const number = (label: string, get: (v: VariantResult) => number, cell = ms): Row => [
    label,
    (v) => cell(get(v)),
    get,
  ];
  const warm = (key: 'p50' | 'p99', window: 'afterCold' | 'steady') =>
    number(
      `warm ${key}, ms: ${window === 'afterCold' ? `the ${n} after the cold one` : `the next ${n} (steady state)`}`,
      (v) => v.warm?.[window][key] ?? Number.NaN,
    );
  const mib = (value: number) => value.toFixed(1);
  return [
    [
      'bundle, raw',
      (v) => `${kib(v.size.raw)}${v.size.files > 1 ? ` (${v.size.files} files)` : ''}`,
      (v) => v.size.raw,
    ],
    number('bundle, gzip -9', (v) => v.size.gzip, kib),
    spreadRow(
      `cold start, spawn → first 200, ms (n=${results.settings.coldRuns})`,
      (v) => v.cold.wallMs,
    ),
    spreadRow('cold: Node.js boot → the import (the harness included), ms', (v) => v.cold.bootMs),
    spreadRow('cold: module import alone, ms', (v) => v.cold.importMs),
    spreadRow('cold: first invocation alone, ms', (v) => v.cold.firstInvocationMs),
    number('cold: Node.js internals the import loads', (v) => v.cold.builtinsLoaded, String),
    number('peak RSS after the first invocation, MiB', (v) => v.cold.maxRssMb, mib),
    warm('p50', 'afterCold'),
    warm('p99', 'afterCold'),
    warm('p50', 'steady'),
    warm('p99', 'steady'),
    number(
      `peak RSS after ${2 * n} warm invocations, MiB`,
      (v) => v.warm?.maxRssMb ?? Number.NaN,
      mib,
    ),
    ...operations.flatMap((op): Row[] => [
      [
        `${op} calls per cold start: median (most)`,
        (v) => `${v.cold.calls[op].median} (${v.cold.calls[op].most})`,
      ],
      [
        `${op} calls over ${2 * n} warm invocations, each round`,
        (v) => v.warm?.calls[op].join(' / ') ?? '–',
      ],
    ]),
  ];
}

/** One comparison: its variants side by side, and ours ÷ each of the others. */
function comparison(results: BenchResults, columns: readonly string[], ops: readonly Operation[]) {
  const [ours, ...others] = columns.map((id) => pick(results, id)) as [
    VariantResult,
    ...VariantResult[],
  ];
  return table(
    [
      'metric',
      ours.name,
      ...others.map((v) => v.name),
      ...others.map((v) => `${ours.name} ÷ ${v.name}`),
    ],
    rows(results, ops).map(([label, cell, num]) => [
      label,
      cell(ours),
      ...others.map(cell),
      ...others.map((v) => (num ? ratio(num(ours), num(v)) : '')),
    ]),
  );
}

function references(results: BenchResults): string {
  const ours = pick(results, 'ours');
  const noMaps = pick(results, 'ours-no-source-maps');
  const { bareHttp: bare, ttlCheck: ttl } = results;
  return table(
    ['reference', 'figure'],
    [
      [
        'ours without `NODE_OPTIONS=--enable-source-maps`: cold start, ms',
        spreadCell(noMaps.cold.wallMs),
      ],
      [
        'ours with source maps, minus without: cold start, ms (medians)',
        ms(ours.cold.wallMs.median - noMaps.cold.wallMs.median),
      ],
      [
        'bare keep-alive `node:http` GET to the fake WeChat: p50 / p99, ms',
        `${ms(bare.p50)} / ${ms(bare.p99)}`,
      ],
      ["ours' own time per warm invocation (steady p50 − bare p50), ms", ms(overheadP50(results))],
      [
        `Secrets Manager calls with a ${ttl.ttlSeconds} s TTL`,
        `${ttl.smCalls} over ${ttl.invocations} invocations in ${ttl.seconds.toFixed(1)} s`,
      ],
    ],
  );
}

function usersReferences(results: BenchResults): string {
  const { bareUpdateItem: bare } = results;
  const [afterCold, steady] = [usersAdded(results, 'afterCold'), usersAdded(results, 'steady')];
  const open = openDataAdded(results);
  const size = pick(results, 'ours').size.raw;
  return table(
    ['reference', 'figure'],
    [
      [
        "bare keep-alive `node:http` UpdateItem (a login's) through the proxy to moto: p50 / p99, ms",
        `${ms(bare.p50)} / ${ms(bare.p99)}`,
      ],
      [
        'ours, users on − ours, sessions on: warm p50, ms (after the cold one / steady state)',
        `${ms(afterCold.added)} / ${ms(steady.added)}`,
      ],
      [
        "of which ours' own time (less the bare UpdateItem p50), ms",
        `${ms(afterCold.own)} / ${ms(steady.own)}`,
      ],
      ['ours, open data on − ours, users on: cold start, ms (medians)', ms(open.coldMs)],
      [
        'ours, open data on − ours, users on: warm p50, ms (after the cold one / steady state)',
        `${ms(open.warmAfterColdP50Ms)} / ${ms(open.warmSteadyP50Ms)}`,
      ],
      [
        `ours' bundle against ${BUNDLE_BEFORE_USERS.toLocaleString('en')} bytes before users, raw`,
        `${kib(size)}, ${size >= BUNDLE_BEFORE_USERS ? '+' : ''}${kib(size - BUNDLE_BEFORE_USERS)}`,
      ],
    ],
  );
}

/** The targets, checked once per window; a warm verdict is on the median of the rounds. */
export function verdicts(results: BenchResults): Verdict[] {
  const n = results.settings.warmInvocations;
  const list: Verdict[] = [];
  const verdict = (target: string, window: string, measured: string, met: boolean, rounds = '') =>
    list.push({ target, window, measured, rounds, met });
  const windows = [
    ['afterCold', `the ${n} after the cold start`],
    ['steady', `the next ${n} (steady state)`],
  ] as const;
  type Key = 'p50' | 'p99';
  const warm = (v: VariantResult, window: 'afterCold' | 'steady', key: Key) => ({
    value: v.warm?.[window][key] ?? Number.NaN,
    rounds: (v.warm?.[window].rounds ?? []).map((r) => precise(r[key])).join(' / '),
  });
  for (const comparison of COMPARISONS) {
    const [a, b] = [pick(results, comparison.columns[0]), pick(results, comparison.columns[1])];
    const [cold, limit] = [a.cold.wallMs.median / b.cold.wallMs.median, comparison.coldLimit];
    verdict(
      `${a.name}: cold start ≤ ${limit}× ${b.name}`,
      `${a.cold.wallMs.n} cold starts each, medians`,
      `${cold.toFixed(2)}× (${ms(a.cold.wallMs.median)} vs ${ms(b.cold.wallMs.median)} ms)`,
      cold <= limit,
    );
    for (const [key, limitMs] of Object.entries(comparison.warmLimitsMs) as [Key, number][])
      for (const [window, label] of windows) {
        const { value, rounds } = warm(a, window, key);
        verdict(
          `${a.name}: warm ${key} ≤ ${limitMs} ms`,
          label,
          `${precise(value)} ms`,
          value <= limitMs,
          rounds,
        );
      }
    if (comparison.warmNoWorse)
      for (const [window, label] of windows) {
        const [ours, theirs] = [warm(a, window, 'p50'), warm(b, window, 'p50')];
        verdict(
          `${a.name}: warm p50 ≤ ${b.name}`,
          label,
          `${precise(ours.value)} vs ${precise(theirs.value)} ms`,
          ours.value <= theirs.value,
          `${ours.rounds} vs ${theirs.rounds}`,
        );
      }
  }
  const most = (v: VariantResult, op: Operation) => ({
    cold: v.cold.calls[op].most,
    warm: Math.max(...(v.warm?.calls[op] ?? [Number.NaN])),
  });
  for (const [window, label] of windows) {
    const { added, bare, own, rounds } = usersAdded(results, window);
    verdict(
      `ours, users on: warm p50 − ours, sessions on ≤ one UpdateItem + ${USERS_OWN_LIMIT_MS} ms`,
      label,
      `${precise(added)} ms = ${precise(bare)} UpdateItem + ${precise(own)} ms`,
      own <= USERS_OWN_LIMIT_MS,
      rounds.map(precise).join(' / '),
    );
  }
  const growth = pick(results, 'ours').size.raw - BUNDLE_BEFORE_USERS;
  verdict(
    `ours: bundle ≤ ${kib(BUNDLE_GROWTH_LIMIT)} more than before users`,
    `raw, against ${BUNDLE_BEFORE_USERS.toLocaleString('en')} bytes`,
    `${growth >= 0 ? '+' : ''}${kib(growth)} (${pick(results, 'ours').size.raw.toLocaleString('en')} bytes)`,
    growth <= BUNDLE_GROWTH_LIMIT,
  );
  for (const [id, op] of [
    ['ours-sessions', 'GetPublicKey'],
    ['ours-open-data', 'GenerateDataKey'],
  ] as const) {
    const variant = pick(results, id);
    const calls = most(variant, op);
    verdict(
      `${variant.name}: ≤ 1 ${op} per environment`,
      `each cold start, then ${2 * n} warm invocations per round`,
      `at most ${calls.cold} per cold start; ${calls.warm} warm`,
      calls.cold <= 1 && calls.warm === 0,
    );
  }
  const ttl = results.ttlCheck;
  const allowed = Math.ceil(ttl.seconds / ttl.ttlSeconds) + 1;
  const sm = most(pick(results, 'ours'), 'GetSecretValue');
  verdict(
    'ours: ≤ 1 Secrets Manager call per environment per TTL',
    `cold starts, warm rounds, ${ttl.seconds.toFixed(1)} s at a ${ttl.ttlSeconds} s TTL`,
    `at most ${sm.cold} per cold start; ${sm.warm} warm; ${ttl.smCalls} at the short TTL (allowed ${allowed})`,
    sm.cold <= 1 && sm.warm === 0 && ttl.smCalls <= allowed,
  );
  return list;
}

function run(results: BenchResults): string {
  const { machine: m, settings: s } = results;
  return table(
    ['run', ''],
    [
      ['date', results.date.slice(0, 10)],
      ['machine', `${m.nproc} cores (${m.cpu}), ${m.memoryGb} GiB, ${m.os}`],
      [
        `load average (1 min) over the run: median (p10–p90), ${results.load.n} samples`,
        `${results.load.median.toFixed(2)} (${results.load.p10.toFixed(2)}–${results.load.p90.toFixed(2)})`,
      ],
      ['Node.js', m.node],
      ['cold starts per variant', String(s.coldRuns)],
      ['warm rounds × invocations per window', `${s.warmRounds} × ${s.warmInvocations}`],
      ['whole bench, s', results.elapsedSeconds.toFixed(0)],
    ],
  );
}

/** Every generated block of docs/performance.md, by name. */
export function renderBlocks(results: BenchResults): Record<string, string> {
  const blocks: Record<string, string> = {
    run: run(results),
    targets: table(
      ['target', 'window', 'measured', 'each round', 'verdict'],
      verdicts(results).map((v) => [
        v.target,
        v.window,
        v.measured,
        v.rounds,
        v.met ? 'met' : '**missed**',
      ]),
    ),
  };
  for (const { block, columns, operations } of COMPARISONS)
    blocks[block] = comparison(results, columns, operations);
  blocks.results = `${blocks.results}\n\n${references(results)}`;
  blocks.users = `${blocks.users}\n\n${usersReferences(results)}`;
  return blocks;
}
