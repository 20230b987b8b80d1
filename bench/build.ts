import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';
import { PROJECT_ROOT } from '../harness/artifact.ts';
import { packageOf } from '../harness/bundle-contents.ts';
import { LOGIN_ESBUILD_OPTIONS } from '../infra/bundling.ts';

const BEST_PRACTICE_ENTRY = fileURLToPath(new URL('./baselines/best-practice.ts', import.meta.url));
const BEST_PRACTICE_SESSIONS_ENTRY = fileURLToPath(
  new URL('./baselines/best-practice-sessions.ts', import.meta.url),
);
export const TUTORIAL_ENTRY = fileURLToPath(new URL('./baselines/tutorial.mjs', import.meta.url));

/** A bundle in a fresh directory outside the project. */
export interface Bundle {
  readonly dir: string;
  readonly entry: string;
  readonly metafile: Metafile;
}

/** Baseline 2, bundled the recommended way: minified ESM with the SDK inside, no source map. */
export function buildBestPractice(): Promise<Bundle> {
  return bundle(BEST_PRACTICE_ENTRY, 'bp');
}

/** Baseline 3 (baseline 2 with a KMS-signed session), bundled the same way. */
export function buildBestPracticeSessions(): Promise<Bundle> {
  return bundle(BEST_PRACTICE_SESSIONS_ENTRY, 'bp-sessions');
}

async function bundle(source: string, name: string): Promise<Bundle> {
  const dir = mkdtempSync(join(tmpdir(), `weapp-openid-bench-${name}-`));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const entry = join(dir, 'index.mjs');
  const result = await build({
    ...LOGIN_ESBUILD_OPTIONS,
    entryPoints: [source],
    outfile: entry,
    metafile: true,
  });
  return { dir, entry, metafile: result.metafile };
}

/** Bytes a bundle's inputs contribute to its output, by package (or project folder). */
export function contributors(metafile: Metafile, top = 8): { name: string; bytes: number }[] {
  const totals = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const name = packageOf(input)?.name ?? folderOf(input);
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
      if (/^@(aws-sdk|smithy)\//.test(packageOf(input)?.name ?? '')) total += bytesInOutput;
    }
  }
  return total;
}

/** Bytes of the output that come from the given project files (paths as the metafile names them). */
export function inputBytes(metafile: Metafile, files: readonly string[]): number {
  let total = 0;
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      if (files.includes(input)) total += bytesInOutput;
    }
  }
  return total;
}

/** `functions/adapters/http.ts` → `functions/adapters`: the project's own code, by folder. */
function folderOf(input: string): string {
  return input.split('/').slice(0, -1).join('/') || input;
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
