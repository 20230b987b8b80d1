/**
 * The README's quick start, run as a newcomer runs it: its shell block, pasted twice into bash
 * against one `npm start`, works both times.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rememberToken } from '../support/leak-guard.ts';
import { type Sandbox, startSandbox } from '../support/local-server.ts';

const README = new URL('../../README.md', import.meta.url);

/** The fenced `sh` blocks of one `## ` section of the README, in order. */
function shellBlocks(markdown: string, heading: string): string[] {
  const start = markdown.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`README has no "## ${heading}" section`);
  const end = markdown.indexOf('\n## ', start + 1);
  const section = markdown.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1] as string);
}

interface Run {
  readonly stdout: string;
  readonly stderr: string;
}

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox();
}, 30_000);
afterAll(() => sandbox?.stop());

/** The quick start's curl block, pointed at the test's server instead of port 2020. */
function quickStart(): string {
  const block = shellBlocks(readFileSync(README, 'utf8'), 'Quick start').find((b) =>
    b.includes('curl'),
  );
  if (!block) throw new Error('the quick start has no curl block');
  expect(block).toContain('localhost:2020');
  return block.replaceAll('localhost:2020', new URL(sandbox.baseUrl).host);
}

async function runInBash(script: string): Promise<Run> {
  const { stdout, stderr } = await promisify(execFile)('bash', ['-c', script], { timeout: 15_000 });
  return { stdout, stderr };
}

/**
 * The JSON objects the block printed, in order. curl prints a body without a newline, so the
 * next one may follow on the same line; the 401's headers around them are not JSON.
 */
function bodies(stdout: string): Record<string, unknown>[] {
  const found: Record<string, unknown>[] = [];
  let depth = 0;
  let start = 0;
  let inString = false;
  for (let i = 0; i < stdout.length; i++) {
    const c = stdout[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (depth > 0 && c === '"') {
      inString = true;
    } else if (c === '{') {
      if (depth++ === 0) start = i;
    } else if (c === '}' && depth > 0 && --depth === 0) {
      found.push(JSON.parse(stdout.slice(start, i + 1)) as Record<string, unknown>);
    }
  }
  return found;
}

describe("the README's quick start", () => {
  it('logs in and calls GET /me with the token every time it is run against one server', async () => {
    // Prepare
    const script = quickStart();

    for (const run of [1, 2]) {
      // Act
      const { stdout, stderr } = await runInBash(script);
      const [login, me, refused] = bodies(stdout);
      if (typeof login?.token === 'string') rememberToken(login.token);

      // Assess: a login with a token, /me answering the token's claims, then the forged 401.
      // (curl's progress meter goes to stderr when its output is not a terminal.)
      expect(stderr, `run ${run}`).not.toMatch(/Error/);
      expect(login, `run ${run}`).toMatchObject({ openid: expect.any(String) });
      expect(login?.token, `run ${run}`).toEqual(expect.any(String));
      expect(me, `run ${run}`).toMatchObject({
        openid: expect.any(String),
        appid: expect.any(String),
        expiresAt: expect.any(Number),
      });
      expect(refused, `run ${run}`).toMatchObject({ code: 'unauthorized' });
      expect(stdout, `run ${run}`).toMatch(/HTTP\/1\.1 401 /);
    }
  });

  it('stops at the TOKEN= line with the reason when the login fails, instead of sending Bearer undefined', async () => {
    // Prepare: the same block with a code the sandbox answers with a failure.
    const script = quickStart().replaceAll('code-$RANDOM$RANDOM', 'sandbox-invalid-code');

    // Act
    const { stdout, stderr } = await runInBash(script);

    // Assess
    expect(stderr).toMatch(/Error: no token: \S/);
    expect(stderr).not.toMatch(/no token: undefined/);
    expect(bodies(stdout).some((body) => 'expiresAt' in body)).toBe(false);
  });
});
