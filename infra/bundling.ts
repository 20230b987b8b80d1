import { fileURLToPath } from 'node:url';
import type { BuildOptions } from 'esbuild';

/**
 * How the login function is bundled: one definition for the stack (NodejsFunction), the
 * bench and the supply-chain check, so that what they measure is what ships.
 */

/** The Lambda entry file; its exported `handler` is what API Gateway invokes. */
export const LOGIN_FUNCTION_ENTRY = fileURLToPath(
  new URL('../functions/openid.ts', import.meta.url),
);

/** The bundle's settings, in the words of NodejsFunction's `bundling` props. */
export const LOGIN_BUNDLING = {
  target: 'node24',
  minify: true,
  sourceMap: true,
  // Prefer the ESM build of a dependency. The function has none (its SigV4 signer is its own),
  // so no CJS `require` shim is bundled; the artifact test would catch one that needed it.
  mainFields: ['module', 'main'],
} as const;

/** The same settings as esbuild build options (ESM, everything bundled, nothing external). */
export const LOGIN_ESBUILD_OPTIONS: BuildOptions = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: LOGIN_BUNDLING.target,
  minify: LOGIN_BUNDLING.minify,
  mainFields: [...LOGIN_BUNDLING.mainFields],
  logLevel: 'silent',
};
