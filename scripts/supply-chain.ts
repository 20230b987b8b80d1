/**
 * `node scripts/supply-chain.ts [--skip-audit]`: what the shipped Lambda bundle is made of, and
 * whether its production dependencies have known advisories.
 *
 * 1. Bundles functions/openid.ts with the stack's esbuild options (infra/login-function.ts) and
 *    lists, from esbuild's metafile, every package inside it: version, license, bytes.
 * 2. Checks that every bundled package is a production dependency (in the tree of package.json
 *    `dependencies`), so that `npm audit --omit=dev` covers everything that ships.
 * 3. Runs `npm audit --omit=dev --audit-level=high`.
 *
 * Exit 0: all good. 1: a bundled package outside the production tree, or an advisory at high or
 * above. 2: the audit could not run (e.g. the registry has no advisory endpoint).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Metafile } from 'esbuild';
import { loginBundleMetafile, packageOf } from '../harness/bundle-contents.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface BundledPackage {
  readonly name: string;
  readonly version: string;
  readonly license: string;
  readonly bytes: number;
  readonly files: number;
}

/** The packages inside the bundle, largest first, and the bytes of the project's own code. */
export async function bundledPackages(): Promise<{
  packages: BundledPackage[];
  ownBytes: number;
  totalBytes: number;
}> {
  return summarise(await loginBundleMetafile());
}

function summarise(metafile: Metafile) {
  const byPackage = new Map<string, { dir: string; bytes: number; files: number }>();
  let ownBytes = 0;
  let totalBytes = 0;
  for (const output of Object.values(metafile.outputs)) {
    totalBytes += output.bytes;
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const found = packageOf(input);
      if (!found) {
        ownBytes += bytesInOutput;
        continue;
      }
      const entry = byPackage.get(found.name) ?? { dir: found.dir, bytes: 0, files: 0 };
      entry.bytes += bytesInOutput;
      entry.files += 1;
      byPackage.set(found.name, entry);
    }
  }
  const packages = [...byPackage].map(([name, { dir, bytes, files }]) => {
    const manifest = JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8')) as {
      version?: string;
      license?: string;
    };
    return {
      name,
      version: manifest.version ?? '?',
      license: manifest.license ?? '?',
      bytes,
      files,
    };
  });
  packages.sort((a, b) => b.bytes - a.bytes);
  return { packages, ownBytes, totalBytes };
}

/** Every package name in the production dependency tree (`npm ls --omit=dev --all`). */
export function productionTree(): Set<string> {
  const out = spawnSync('npm', ['ls', '--omit=dev', '--all', '--json'], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  }).stdout;
  const names = new Set<string>();
  const walk = (node: { dependencies?: Record<string, unknown> }) => {
    for (const [name, child] of Object.entries(node.dependencies ?? {})) {
      names.add(name);
      walk(child as { dependencies?: Record<string, unknown> });
    }
  };
  walk(JSON.parse(out) as { dependencies?: Record<string, unknown> });
  return names;
}

/** `npm audit --omit=dev --audit-level=high`: its exit status and summary, or why it could not run. */
export function audit(): { ran: boolean; passed: boolean; summary: string } {
  const run = spawnSync('npm', ['audit', '--omit=dev', '--audit-level=high', '--json'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  let report: {
    metadata?: { vulnerabilities?: Record<string, number> };
    message?: string;
    error?: { summary?: string };
  } = {};
  try {
    report = JSON.parse(run.stdout || '{}');
  } catch {}
  const counts = report.metadata?.vulnerabilities;
  if (!counts) {
    const why =
      report.error?.summary ||
      report.message ||
      run.stderr.split('\n').find((line) => line.trim()) ||
      'no output';
    return { ran: false, passed: false, summary: `npm audit could not run: ${why.trim()}` };
  }
  const summary = Object.entries(counts)
    .map(([level, n]) => `${level}=${n}`)
    .join(' ');
  return { ran: true, passed: run.status === 0, summary: `npm audit --omit=dev: ${summary}` };
}

if (import.meta.main) {
  const skipAudit = process.argv.includes('--skip-audit');
  const { packages, ownBytes, totalBytes } = await bundledPackages();
  const tree = productionTree();
  const npmVersion = execFileSync('npm', ['--version'], { encoding: 'utf8' }).trim();

  const lines = [
    `bundle of functions/openid.ts (esbuild, stack options): ${totalBytes} bytes; project code ${ownBytes} bytes`,
    'package'.padEnd(40) +
      'version'.padEnd(10) +
      'license'.padEnd(14) +
      'bytes'.padStart(8) +
      '  in production tree',
    ...packages.map(
      (p) =>
        p.name.padEnd(40) +
        p.version.padEnd(10) +
        p.license.padEnd(14) +
        String(p.bytes).padStart(8) +
        `  ${tree.has(p.name) ? 'yes' : 'NO'}`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  let exit = 0;
  const outside = packages.filter((p) => !tree.has(p.name));
  if (outside.length > 0) {
    process.stdout.write(
      `FAIL: bundled but not production dependencies (npm audit --omit=dev misses them): ${outside.map((p) => p.name).join(', ')}\n`,
    );
    exit = 1;
  }
  if (!skipAudit) {
    const result = audit();
    process.stdout.write(`${result.summary} (npm ${npmVersion})\n`);
    if (!result.ran) exit = Math.max(exit, 2);
    else if (!result.passed) exit = 1;
  }
  process.exitCode = exit;
}
