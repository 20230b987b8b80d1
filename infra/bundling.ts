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

/** CJS dependencies inside an ESM bundle still find `require`. */
const REQUIRE_BANNER =
  "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);";

/** The bundle's settings, in the words of NodejsFunction's `bundling` props. */
export const LOGIN_BUNDLING = {
  target: 'node24',
  minify: true,
  sourceMap: true,
  // Prefer the ESM build of dependencies; CJS ones still work thanks to the banner.
  mainFields: ['module', 'main'],
  banner: REQUIRE_BANNER,
} as const;

/** The same settings as esbuild build options (ESM, everything bundled, nothing external). */
export const LOGIN_ESBUILD_OPTIONS: BuildOptions = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: LOGIN_BUNDLING.target,
  minify: LOGIN_BUNDLING.minify,
  mainFields: [...LOGIN_BUNDLING.mainFields],
  banner: { js: LOGIN_BUNDLING.banner },
  logLevel: 'silent',
};
