/**
 * Once per test run, in Vitest's main process, for the slow project: a directory the run's
 * files share (the synthesized templates and the built artifact, see synth.ts and
 * artifact.ts), and one moto_server for the files that need one (see moto.ts). Both go away
 * when the run ends. In watch mode, what the directory holds is dropped before each rerun,
 * since the code it was built from may have changed.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { motoAvailable, startMoto } from '../../harness/moto.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's shared directory. */
    runDir: string;
    /** The run's moto_server, or '' when it is not installed. */
    motoEndpoint: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const runDir = mkdtempSync(join(tmpdir(), 'weapp-openid-run-'));
  const moto = motoAvailable ? await startMoto() : undefined;
  project.provide('runDir', runDir);
  project.provide('motoEndpoint', moto?.endpoint ?? '');
  project.onTestsRerun(() => {
    rmSync(runDir, { recursive: true, force: true });
    mkdirSync(runDir);
  });
  return async () => {
    await moto?.stop();
    rmSync(runDir, { recursive: true, force: true });
  };
}
