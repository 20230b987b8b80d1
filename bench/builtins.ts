import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { NODE_24 } from '../harness/artifact.ts';
import { median, type Spread, spread } from './stats.ts';

const run = promisify(execFile);

/** Internal modules whose loading the ESM facade of `node:http` or `node:crypto` triggers. */
const HEAVY = /undici|http2|zlib|webstreams|webcrypto/;

/**
 * Ways of getting `node:http`, `node:https` and `node:crypto`, as the bundle's top level does.
 * A dynamic `import()` of a builtin builds the same ESM facade as a static import.
 */
const CASES = [
  {
    id: 'esm',
    label: 'ESM imports of all three (the bundle before getBuiltinModule)',
    code: "await import('node:http'); await import('node:https'); await import('node:crypto');",
  },
  {
    id: 'shipped',
    label:
      "getBuiltinModule for all three, plus the ESM import of node:crypto's getRandomValues left in @smithy/core/serde (the bundle as shipped)",
    code: "process.getBuiltinModule('node:http'); process.getBuiltinModule('node:https'); process.getBuiltinModule('node:crypto'); await import('node:crypto');",
  },
  {
    id: 'builtin-only',
    label: 'getBuiltinModule for all three, no ESM import at all',
    code: "process.getBuiltinModule('node:http'); process.getBuiltinModule('node:https'); process.getBuiltinModule('node:crypto');",
  },
] as const;

export interface BuiltinsCase {
  readonly id: (typeof CASES)[number]['id'];
  readonly label: string;
  /** Time to get the three modules, in a fresh process. */
  readonly ms: Spread;
  /** Node.js internal modules and bindings loaded on the way (median). */
  readonly modulesLoaded: number;
  /** Which of undici, http2, zlib, webstreams and webcrypto got loaded (any of their modules). */
  readonly heavy: string[];
}

/**
 * Times, in fresh Node.js 24 processes, what getting the three builtins costs each way: the
 * mechanism behind functions/adapters/http.ts and sha256.ts taking them through
 * `process.getBuiltinModule()`. Runs interleaved, `runs` of each.
 */
export async function probeBuiltins(runs: number): Promise<BuiltinsCase[]> {
  const samples = new Map<string, { ms: number; loaded: string[] }[]>();
  for (let i = 0; i < runs; i++) {
    for (let k = 0; k < CASES.length; k++) {
      const c = CASES[(i + k) % CASES.length] as (typeof CASES)[number];
      samples.set(c.id, [...(samples.get(c.id) ?? []), await probe(c.code)]);
    }
  }
  return CASES.map((c) => {
    const list = samples.get(c.id) ?? [];
    return {
      id: c.id,
      label: c.label,
      ms: spread(list.map((s) => s.ms)),
      modulesLoaded: median(list.map((s) => s.loaded.length)),
      heavy: [...new Set(list.flatMap((s) => s.loaded.flatMap((name) => HEAVY.exec(name) ?? [])))],
    };
  });
}

async function probe(code: string): Promise<{ ms: number; loaded: string[] }> {
  // The ESM loader's own machinery is loaded first (a builtin already in memory), as it is by
  // the time a bundle's imports are linked.
  const script = `await import('node:path');
const before = new Set(process.moduleLoadList);
const started = performance.now();
${code}
const ms = performance.now() - started;
const loaded = process.moduleLoadList.filter((name) => !before.has(name))
  .map((name) => name.replace(/^(NativeModule|Internal Binding) /, ''));
process.stdout.write(JSON.stringify({ ms, loaded }));`;
  const { stdout } = await run(NODE_24, ['--input-type=module', '-e', script], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
  });
  return JSON.parse(stdout) as { ms: number; loaded: string[] };
}
