/**
 * Builds the mini program client: one CommonJS file for ES2018 (what WeChat base library 2.x
 * runs with no bundler) and its declarations, into `client/miniprogram_dist/`, the folder the
 * devtools' "build npm" reads; the example mini program gets a copy, as a user who copies the
 * one file would. Prints the size.
 *
 * `npm run build:client`
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const here = import.meta.dirname;
export const DIST = join(here, 'miniprogram_dist');
export const EXAMPLE_COPY = join(here, '..', 'examples', 'miniprogram', 'lib', 'weapp-openid.js');
const { version } = JSON.parse(readFileSync(join(here, 'package.json'), 'utf8')) as {
  version: string;
};
const banner = `// weapp-openid-client ${version}: wx.login once, keep the session, sign every wx.request.`;

export interface Built {
  readonly js: string;
  readonly dts: string;
}

/** Type-checks the source against the official wx typings and compiles it, in memory. */
export async function buildClient(): Promise<Built> {
  return { js: await bundle(), dts: declarations() };
}

async function bundle(): Promise<string> {
  const result = await build({
    entryPoints: [join(here, 'src', 'index.ts')],
    bundle: true,
    format: 'cjs',
    platform: 'neutral',
    target: 'es2018',
    banner: { js: banner },
    write: false,
    logLevel: 'silent',
  });
  const [file] = result.outputFiles;
  if (!file) throw new Error('esbuild wrote no file');
  return file.text;
}

function declarations(): string {
  const out = mkdtempSync(join(tmpdir(), 'weapp-openid-client-'));
  try {
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    execFileSync(process.execPath, [tsc, '-p', join(here, 'tsconfig.json'), '--outDir', out], {
      stdio: 'inherit',
    });
    const dts = readFileSync(join(out, 'index.d.ts'), 'utf8');
    // The one .d.ts ships alone: it must not point at the other source files.
    if (/\bfrom\s+['"]|import\(/.test(dts)) throw new Error('index.d.ts imports another file');
    return `${banner}\n${dts}`;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** Bytes as people read them: `7.9 KiB`. */
export function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

if (import.meta.main) {
  const { js, dts } = await buildClient();
  mkdirSync(DIST, { recursive: true });
  writeFileSync(join(DIST, 'index.js'), js);
  writeFileSync(join(DIST, 'index.d.ts'), dts);
  copyFileSync(join(DIST, 'index.js'), EXAMPLE_COPY);
  const raw = Buffer.byteLength(js);
  const gzip = gzipSync(js).length;
  process.stdout.write(
    `client/miniprogram_dist/index.js: ${raw} bytes (${kib(raw)}), ${gzip} bytes gzipped (${kib(gzip)})\n`,
  );
}
