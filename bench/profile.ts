import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type LambdaProcessOptions, startLambdaProcess } from '../harness/lambda-process.ts';
import { startBenchProcess } from './bench-process.ts';

interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  }[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Self time of one part of the cold path, in milliseconds. */
export interface ProfileEntry {
  readonly name: string;
  readonly ms: number;
}

export interface ColdProfile {
  /** How many cold starts were profiled; every figure below is their mean per cold start. */
  readonly runs: number;
  /** The profiles' span, from the profiler's start to the process's end. */
  readonly totalMs: number;
  /** Self time by where the code comes from: a source of the bundle (through its source map), a Node.js internal area, or a V8 pseudo-node; all of them, heaviest first. */
  readonly bySource: ProfileEntry[];
  /** The same self time in a few broad groups (see GROUPS), heaviest first. */
  readonly byGroup: ProfileEntry[];
  /** The heaviest single functions, named as `function (source)`. */
  readonly byFunction: ProfileEntry[];
}

/**
 * Runs `runs` cold starts (import + first invocation) under `node --cpu-prof`, one after
 * another, and attributes the sampled self time, averaged per cold start. Bundle frames are
 * mapped back to their original module through the bundle's source map, so "the bundle"
 * splits into functions/… and each dependency.
 */
export async function profileColdStart(
  options: LambdaProcessOptions,
  runs: number,
): Promise<ColdProfile> {
  const profiles: CpuProfile[] = [];
  for (let run = 0; run < runs; run++) {
    const dir = mkdtempSync(join(tmpdir(), 'weapp-openid-prof-'));
    try {
      const child = startLambdaProcess({
        ...options,
        nodeArgs: [
          ...(options.nodeArgs ?? []),
          '--cpu-prof',
          '--cpu-prof-dir',
          dir,
          '--cpu-prof-interval',
          '100',
        ],
      });
      await child.first;
      await child.close();
      const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
      if (!file) throw new Error('node --cpu-prof wrote no profile');
      profiles.push(JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return summarize(profiles);
}

function summarize(profiles: readonly CpuProfile[]): ColdProfile {
  const maps = new Map<string, SourceMap | undefined>();
  const bySource = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let spanUs = 0;
  for (const profile of profiles) {
    spanUs += profile.endTime - profile.startTime;
    const selfUs = new Map<number, number>();
    profile.samples.forEach((id, i) => {
      selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
    });
    for (const node of profile.nodes) {
      const us = selfUs.get(node.id);
      if (!us) continue;
      const { functionName, url, lineNumber, columnNumber } = node.callFrame;
      const source =
        url === '' ? nativeArea(functionName) : sourceOf(url, lineNumber, columnNumber, maps);
      bySource.set(source.area, (bySource.get(source.area) ?? 0) + us);
      const fn = `${functionName || '(anonymous)'} (${source.file})`;
      byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    }
  }
  const runs = Math.max(1, profiles.length);
  const top = (map: Map<string, number>, n: number): ProfileEntry[] =>
    [...map]
      .map(([name, us]) => ({ name, ms: us / 1000 / runs }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, n);
  const byGroup = new Map<string, number>();
  for (const [area, us] of bySource) {
    const group = GROUPS.find(([, test]) => test(area))?.[0] ?? 'other Node.js internals';
    byGroup.set(group, (byGroup.get(group) ?? 0) + us);
  }
  return {
    runs: profiles.length,
    totalMs: spanUs / 1000 / runs,
    bySource: top(bySource, bySource.size),
    byGroup: top(byGroup, byGroup.size),
    byFunction: top(byFunction, 12),
  };
}

/** Broad groups of the profile's areas, first match wins. */
const GROUPS: [string, (area: string) => boolean][] = [
  ['idle: waiting on I/O (moto, fake WeChat, stdin)', (a) => a === '(idle)'],
  ['garbage collector', (a) => a === '(garbage collector)'],
  ['the bundle: esbuild glue (lines with no source)', (a) => a === '(bundle: no source)'],
  ['V8 native: compiling and running outside JS', (a) => a.startsWith('(')],
  [
    'loading Node.js builtins (compileForInternalLoader, internalBinding)',
    (a) => a === 'node:internal/bootstrap/realm',
  ],
  ['ESM loader (linking, compiling the bundle)', (a) => a.startsWith('node:internal/modules')],
  ['source maps (--enable-source-maps)', (a) => a.startsWith('node:internal/source_map')],
  ['crypto (node:crypto)', (a) => /^node:(internal\/)?crypto/.test(a)],
  [
    'network and HTTP (net, http, streams)',
    (a) =>
      /^node:(internal\/(http|net|streams|stream_base|dns)|_http|http|https|net|dns|stream)/.test(
        a,
      ),
  ],
  ['promise jobs and ticks (node:internal/process/task_queues)', (a) => a.includes('task_queues')],
  ['the bundle: functions/*', (a) => a.startsWith('functions')],
  ['the bundle: @smithy/* (SigV4 signer)', (a) => a.startsWith('@smithy/')],
  ['the bench harness (lambda-child.mjs)', (a) => a.includes('lambda-child')],
];

/** V8's pseudo-nodes, each its own area: (program), (idle), (garbage collector), (root). */
function nativeArea(functionName: string): { area: string; file: string } {
  const area = functionName.startsWith('(') ? functionName : '(native)';
  return { area, file: 'native' };
}

function sourceOf(
  url: string,
  line: number,
  column: number,
  maps: Map<string, SourceMap | undefined>,
): { area: string; file: string } {
  if (url.startsWith('node:')) {
    // node:internal/modules/esm/loader → node:internal/modules/esm
    const area = url
      .split('/')
      .slice(0, url.startsWith('node:internal/') ? 3 : 1)
      .join('/');
    return { area, file: url };
  }
  if (!url.startsWith('file:')) return { area: url, file: url };
  const path = fileURLToPath(url);
  if (!maps.has(path)) maps.set(path, loadSourceMap(path));
  const map = maps.get(path);
  const entry = map?.findEntry(line, column);
  const original = entry && 'originalSource' in entry ? entry.originalSource : undefined;
  if (!original) {
    // Lines of a bundle that map to no source: esbuild's module glue and the banner.
    return map
      ? { area: '(bundle: no source)', file: 'bundle' }
      : { area: shorten(path), file: shorten(path) };
  }
  const file = shorten(original);
  return { area: areaOf(file), file };
}

function loadSourceMap(path: string): SourceMap | undefined {
  const mapFile = `${path}.map`;
  if (!existsSync(mapFile)) return undefined;
  return new SourceMap(JSON.parse(readFileSync(mapFile, 'utf8')));
}

function shorten(path: string): string {
  const clean = path.replace(/^file:\/\//, '');
  const at = clean.lastIndexOf('node_modules/');
  if (at >= 0) return clean.slice(at);
  const functionsAt = clean.lastIndexOf('functions/');
  if (functionsAt >= 0) return clean.slice(functionsAt);
  return clean.split('/').slice(-2).join('/');
}

/** node_modules/@smithy/signature-v4/dist-es/x.js → @smithy/signature-v4; functions/a/b.ts → functions/a. */
function areaOf(file: string): string {
  if (file.startsWith('node_modules/')) {
    const parts = file.split('/');
    return parts[1]?.startsWith('@') ? `${parts[1]}/${parts[2]}` : (parts[1] ?? file);
  }
  return file.split('/').slice(0, -1).join('/') || file;
}

/** Garbage collections in one window of warm invocations, from `node --trace-gc`. */
export interface GcWindow {
  readonly invocations: number;
  readonly scavenges: number;
  /** Full (mark-compact) collections. */
  readonly major: number;
  /** Main-thread pauses, in milliseconds. */
  readonly maxPauseMs: number;
  readonly totalPauseMs: number;
  readonly pausesOver1Ms: number;
  readonly pausesOver2Ms: number;
}

/**
 * A separate warm process under `node --trace-gc` (its timings are not used): the collections
 * during the `count` invocations right after the cold one, then during the next `count`.
 */
export async function traceWarmGc(
  options: LambdaProcessOptions & { firstEvent: NonNullable<LambdaProcessOptions['firstEvent']> },
  count: number,
): Promise<{ afterCold: GcWindow; steady: GcWindow }> {
  const child = startBenchProcess({
    ...options,
    nodeArgs: [...(options.nodeArgs ?? []), '--trace-gc'],
  });
  // The trace goes to stdout, which may arrive a little after a result line.
  const settle = () => new Promise((resolve) => setTimeout(resolve, 250));
  try {
    await child.first;
    await settle();
    const windowOf = async (): Promise<GcWindow> => {
      const from = child.stdout.length;
      await child.loop(options.firstEvent, count);
      await settle();
      return gcWindow(child.stdout.slice(from).join(''), count);
    };
    const afterCold = await windowOf();
    const steady = await windowOf();
    return { afterCold, steady };
  } finally {
    await child.close();
  }
}

function gcWindow(output: string, invocations: number): GcWindow {
  let scavenges = 0;
  let major = 0;
  const pauses: number[] = [];
  const line = /\d+ ms: ([\w-]+)[^\n]*? MB, (?:pooled: [\d.]+ MB, )?([\d.]+) \/ [\d.]+ ms/g;
  for (const [, kind, pause] of output.matchAll(line)) {
    if (kind === 'Scavenge' || kind === 'Minor') scavenges++;
    else major++;
    pauses.push(Number(pause));
  }
  return {
    invocations,
    scavenges,
    major,
    maxPauseMs: Math.max(0, ...pauses),
    totalPauseMs: pauses.reduce((sum, p) => sum + p, 0),
    pausesOver1Ms: pauses.filter((p) => p > 1).length,
    pausesOver2Ms: pauses.filter((p) => p > 2).length,
  };
}
