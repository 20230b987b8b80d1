import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { LOGIN_ESBUILD_OPTIONS, LOGIN_FUNCTION_ENTRY } from '../infra/bundling.ts';

/**
 * What the shipped bundle is made of: the login entry bundled with the stack's options, with
 * esbuild's metafile (bytes of the output by input file). Nothing is written to disk.
 */
export async function loginBundleMetafile(): Promise<Metafile> {
  const result = await build({
    ...LOGIN_ESBUILD_OPTIONS,
    entryPoints: [LOGIN_FUNCTION_ENTRY],
    outfile: join(tmpdir(), 'weapp-openid-contents.mjs'),
    metafile: true,
    write: false,
  });
  return result.metafile;
}

/**
 * The package a bundled input comes from: `node_modules/@smithy/foo/dist-es/x.js` →
 * `{ name: '@smithy/foo', dir: 'node_modules/@smithy/foo' }` (the innermost node_modules
 * wins); undefined for the project's own files.
 */
export function packageOf(input: string): { name: string; dir: string } | undefined {
  const parts = input.split('/');
  const at = parts.lastIndexOf('node_modules');
  if (at < 0) return undefined;
  const end = at + (parts[at + 1]?.startsWith('@') ? 3 : 2);
  return { name: parts.slice(at + 1, end).join('/'), dir: parts.slice(0, end).join('/') };
}
