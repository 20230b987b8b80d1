/**
 * The shipped artifact, built once per test run for all the files that run it: each build is
 * a `cdk synth` of its own. The first file to ask builds it into the run's directory
 * (global-setup.ts); the others wait for it.
 */
import { cpSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { inject } from 'vitest';
import { type Artifact, buildArtifact, disposeArtifact } from '../../harness/artifact.ts';

/** How long a file waits for another's build: within the 120 s its beforeAll allows. */
const WAIT_MS = 110_000;

/** The run's artifact, or one built for this process outside such a run. */
export async function sharedArtifact(): Promise<Artifact> {
  const runDir = inject('runDir');
  if (!runDir) return buildArtifact();
  const ready = join(runDir, 'artifact.json');
  try {
    mkdirSync(join(runDir, 'artifact.lock'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return waitFor(ready);
    throw error;
  }
  try {
    const built = await buildArtifact();
    const dir = join(runDir, 'artifact');
    cpSync(built.dir, dir, { recursive: true });
    const artifact: Artifact = {
      ...built,
      dir,
      entry: join(dir, relative(built.dir, built.entry)),
    };
    publish(ready, { artifact });
    return artifact;
  } catch (error) {
    publish(ready, { error: error instanceof Error ? error.message : String(error) });
    throw error;
  } finally {
    await disposeArtifact();
  }
}

type Outcome = { artifact: Artifact } | { error: string };

function publish(file: string, outcome: Outcome): void {
  writeFileSync(`${file}.tmp`, JSON.stringify(outcome));
  renameSync(`${file}.tmp`, file);
}

async function waitFor(file: string): Promise<Artifact> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    let text: string | undefined;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      if (Date.now() > deadline) throw new Error(`no artifact at ${file} after ${WAIT_MS} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
      continue;
    }
    const outcome = JSON.parse(text) as Outcome;
    if ('error' in outcome) throw new Error(`the artifact build failed: ${outcome.error}`);
    return outcome.artifact;
  }
}
