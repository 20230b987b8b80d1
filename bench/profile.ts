import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type LambdaProcessOptions, startLambdaProcess } from '../test/support/lambda-process.ts';

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
  readonly totalMs: number;
  /** Self time by where the code comes from: a source of the bundle (through its source map), a Node.js internal area, or a V8 pseudo-node. */
  readonly bySource: ProfileEntry[];
  /** The heaviest single functions, named as `function (source)`. */
  readonly byFunction: ProfileEntry[];
}

/**
 * Runs one cold start (import + first invocation) under `node --cpu-prof` and attributes
 * the sampled self time. Bundle frames are mapped back to their original module through the
 * bundle's source map, so "the bundle" splits into functions/… and each dependency.
 */
export async function profileColdStart(options: LambdaProcessOptions): Promise<ColdProfile> {
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
    return summarize(JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function summarize(profile: CpuProfile): ColdProfile {
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const maps = new Map<string, SourceMap | undefined>();
  const bySource = new Map<string, number>();
  const byFunction = new Map<string, number>();
  for (const node of profile.nodes) {
    const us = selfUs.get(node.id);
    if (!us) continue;
    const { functionName, url, lineNumber, columnNumber } = node.callFrame;
    const source = sourceOf(url, lineNumber, columnNumber, maps);
    bySource.set(source.area, (bySource.get(source.area) ?? 0) + us);
    const fn = `${functionName || '(anonymous)'} (${source.file})`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
  }
  const top = (map: Map<string, number>, n: number): ProfileEntry[] =>
    [...map]
      .map(([name, us]) => ({ name, ms: us / 1000 }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, n);
  return {
    totalMs: (profile.endTime - profile.startTime) / 1000,
    bySource: top(bySource, 14),
    byFunction: top(byFunction, 12),
  };
}

function sourceOf(
  url: string,
  line: number,
  column: number,
  maps: Map<string, SourceMap | undefined>,
): { area: string; file: string } {
  if (url === '') return { area: '(V8/native: compile, GC, program, idle)', file: 'native' };
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
  if (!original) return { area: shorten(path), file: shorten(path) };
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
