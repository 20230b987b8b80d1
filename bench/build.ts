import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';
import { LOGIN_ESBUILD_OPTIONS, LOGIN_FUNCTION_ENTRY } from '../infra/bundling.ts';
import { PROJECT_ROOT } from '../test/support/artifact.ts';

const BEST_PRACTICE_ENTRY = fileURLToPath(new URL('./baselines/best-practice.ts', import.meta.url));
export const TUTORIAL_ENTRY = fileURLToPath(new URL('./baselines/tutorial.mjs', import.meta.url));

/** A bundle in a fresh directory outside the project. */
export interface Bundle {
  readonly dir: string;
  readonly entry: string;
  readonly metafile: Metafile;
}

/** Baseline 2, bundled the recommended way: minified ESM with the SDK inside, no source map. */
export async function buildBestPractice(): Promise<Bundle> {
  const dir = mkdtempSync(join(tmpdir(), 'weapp-openid-bench-bp-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const entry = join(dir, 'index.mjs');
  const result = await build({
    ...LOGIN_ESBUILD_OPTIONS,
    entryPoints: [BEST_PRACTICE_ENTRY],
    outfile: entry,
    metafile: true,
  });
  return { dir, entry, metafile: result.metafile };
}

/** What the shipped bundle is made of: the same entry and options, with a metafile. */
export async function analyzeOurs(): Promise<Metafile> {
  const result = await build({
    ...LOGIN_ESBUILD_OPTIONS,
    entryPoints: [LOGIN_FUNCTION_ENTRY],
    outfile: join(tmpdir(), 'weapp-openid-analysis.mjs'),
    metafile: true,
    write: false,
  });
  return result.metafile;
}

/** Bytes a bundle's inputs contribute to its output, by package (or project folder). */
export function contributors(metafile: Metafile, top = 8): { name: string; bytes: number }[] {
  const totals = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const name = packageOf(input);
      totals.set(name, (totals.get(name) ?? 0) + bytesInOutput);
    }
  }
  return [...totals]
    .map(([name, bytes]) => ({ name, bytes }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, top);
}

/** Bytes of a bundle's output that come from the AWS SDK's packages (`@aws-sdk/*`, `@smithy/*`). */
export function sdkBytes(metafile: Metafile): number {
  let total = 0;
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      if (/^@(aws-sdk|smithy)\//.test(packageOf(input))) total += bytesInOutput;
    }
  }
  return total;
}

/** `node_modules/@smithy/foo/dist-es/x.js` → `@smithy/foo`; `functions/adapters/http.ts` → `functions/adapters`. */
function packageOf(input: string): string {
  const parts = input.split('/');
  const at = parts.lastIndexOf('node_modules');
  if (at >= 0) {
    const scope = parts[at + 1] ?? '';
    return scope.startsWith('@') ? `${scope}/${parts[at + 2]}` : scope;
  }
  return parts.slice(0, -1).join('/') || input;
}

/** Raw and gzipped size of files taken together (gzip of their concatenation). */
export function sizes(files: readonly string[]): { raw: number; gzip: number; files: number } {
  const contents = files.map((file) => readFileSync(file));
  const raw = contents.reduce((sum, buffer) => sum + buffer.length, 0);
  return { raw, gzip: gzipSync(Buffer.concat(contents), { level: 9 }).length, files: files.length };
}

/** Bytes of the files a process loaded from node_modules (the tutorial way ships node_modules). */
export function nodeModulesFiles(loaded: readonly string[]): string[] {
  return loaded
    .map((url) => fileURLToPath(url))
    .filter((file) => relative(PROJECT_ROOT, file).startsWith('node_modules'))
    .filter((file) => statSync(file).isFile());
}
