import { execFile } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { NODE_24, PROJECT_ROOT } from '../harness/artifact.ts';
import { median, type Spread, spread } from './stats.ts';

const run = promisify(execFile);
const JWK_MODULE = pathToFileURL(`${PROJECT_ROOT}functions/adapters/jwk.ts`).href;

/** What turning a `GetPublicKey` answer into the signing key's JWK and `kid` costs. */
export interface KeyParse {
  /** The first call in a fresh process (what a cold start pays), per process. */
  readonly firstMs: Spread;
  /** Any later call (median within a process, then over the processes). */
  readonly laterMs: number;
}

/**
 * Times `rsaPublicJwk` (functions/adapters/jwk.ts: DER SPKI → JWK, RFC 7638 thumbprint) on a
 * key's real `GetPublicKey` answer, in `runs` fresh Node.js 24 processes. The module's import
 * (and the type stripping it needs here, which the bundle does not) is outside the timing.
 */
export async function probeKeyParse(publicKeyBase64: string, runs: number): Promise<KeyParse> {
  const script = `const { rsaPublicJwk } = await import(${JSON.stringify(JWK_MODULE)});
const der = Buffer.from(process.env.PUBLIC_KEY, 'base64');
let started = performance.now();
rsaPublicJwk(der);
const firstMs = performance.now() - started;
const later = [];
for (let i = 0; i < 100; i++) {
  started = performance.now();
  rsaPublicJwk(der);
  later.push(performance.now() - started);
}
later.sort((a, b) => a - b);
process.stdout.write(JSON.stringify({ firstMs, laterMs: later[50] }));`;
  const samples: { firstMs: number; laterMs: number }[] = [];
  for (let i = 0; i < runs; i++) {
    const { stdout } = await run(NODE_24, ['--input-type=module', '-e', script], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PUBLIC_KEY: publicKeyBase64 },
    });
    samples.push(JSON.parse(stdout) as { firstMs: number; laterMs: number });
  }
  return {
    firstMs: spread(samples.map((s) => s.firstMs)),
    laterMs: median(samples.map((s) => s.laterMs)),
  };
}
