import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root (where cdk.json and node_modules are). */
export const PROJECT_ROOT = fileURLToPath(new URL('../', import.meta.url));

/** The Node.js 24 binary the project pins (node_modules/.bin/node), else the current one. */
export const NODE_24 = ((): string => {
  const pinned = join(PROJECT_ROOT, 'node_modules', '.bin', 'node');
  return Number(process.versions.node.split('.')[0]) >= 24 || !existsSync(pinned)
    ? process.execPath
    : pinned;
})();

/** The login function's bundle exactly as the stack ships it, copied away from the project. */
export interface Artifact {
  /** A fresh directory outside the project holding only the asset's files. */
  readonly dir: string;
  /** The bundle's entry file, e.g. `<dir>/index.mjs`. */
  readonly entry: string;
  /** The exported name the Lambda runtime calls (`handler` of `index.handler`). */
  readonly handlerName: string;
  /** The function's environment variables that are plain strings in the template (e.g. NODE_OPTIONS). */
  readonly environment: Readonly<Record<string, string>>;
  /** The function's memory size in MB, as synthesized. */
  readonly memoryMb: number | undefined;
}

interface LambdaResource {
  Type: string;
  Properties?: {
    Handler?: string;
    MemorySize?: number;
    Environment?: { Variables?: Record<string, unknown> };
  };
  Metadata?: Record<string, unknown>;
}

let cached: Promise<Artifact> | undefined;

/**
 * Removes the copied artifact and forgets it. Test files call it in afterAll: Vitest ends its
 * worker processes without running their `exit` handlers.
 */
export async function disposeArtifact(): Promise<void> {
  const artifact = await cached?.catch(() => undefined);
  cached = undefined;
  if (artifact) rmSync(artifact.dir, { recursive: true, force: true });
}

/**
 * Synthesizes the CDK app (`cdk synth --quiet` into a fresh temporary directory, with the
 * context of cdk.json), finds the login function's bundled asset through the `aws:asset:path`
 * metadata of its `AWS::Lambda::Function`, and copies that asset into a fresh directory
 * outside the project, so that anything the bundle failed to include cannot be resolved from
 * node_modules. Built once per process; the directories are removed when the process exits.
 */
export function buildArtifact(): Promise<Artifact> {
  cached ??= build();
  return cached;
}

async function build(): Promise<Artifact> {
  const outdir = mkdtempSync(join(tmpdir(), 'weapp-openid-synth-'));
  try {
    await synth(outdir);
    const { assetDir, handler, environment, memoryMb } = findFunctionAsset(outdir);
    const dot = handler.lastIndexOf('.');
    const file = handler.slice(0, dot);
    const handlerName = handler.slice(dot + 1);
    const dir = mkdtempSync(join(tmpdir(), 'weapp-openid-artifact-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    cpSync(assetDir, dir, { recursive: true });
    const entry = ['.mjs', '.js', '.cjs'].map((ext) => join(dir, file + ext)).find(existsSync);
    if (!entry) throw new Error(`the asset has no ${file}.mjs for the handler ${handler}`);
    return { dir, entry, handlerName, environment, memoryMb };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** Runs the project's own cdk CLI with Node 24 first on PATH (cdk.json's app is `node infra/app.ts`). */
function synth(outdir: string): Promise<void> {
  const bin = join(PROJECT_ROOT, 'node_modules', '.bin');
  return new Promise((resolvePromise, reject) => {
    const child = spawn(join(bin, 'cdk'), ['synth', '--quiet', '-o', outdir], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH ?? ''}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.once('error', reject);
    child.once('close', (code) => {
      if (code === 0) resolvePromise();
      else reject(new Error(`cdk synth failed with exit code ${code}:\n${output.slice(-4000)}`));
    });
  });
}

/**
 * The login function is the `AWS::Lambda::Function` whose asset holds the file its Handler
 * names; custom-resource functions of the CDK (if any) are told apart by their construct path.
 */
function findFunctionAsset(outdir: string): {
  assetDir: string;
  handler: string;
  environment: Record<string, string>;
  memoryMb: number | undefined;
} {
  const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8')) as {
    artifacts?: Record<string, { type: string; properties?: { templateFile?: string } }>;
  };
  const templates = Object.values(manifest.artifacts ?? {})
    .filter((a) => a.type === 'aws:cloudformation:stack' && a.properties?.templateFile)
    .map((a) => join(outdir, a.properties?.templateFile as string));

  const candidates: {
    path: string;
    assetDir: string;
    handler: string;
    resource: LambdaResource;
  }[] = [];
  for (const file of templates) {
    const template = JSON.parse(readFileSync(file, 'utf8')) as {
      Resources?: Record<string, LambdaResource>;
    };
    for (const resource of Object.values(template.Resources ?? {})) {
      const assetPath = resource.Metadata?.['aws:asset:path'];
      const handler = resource.Properties?.Handler;
      if (resource.Type !== 'AWS::Lambda::Function' || typeof assetPath !== 'string' || !handler)
        continue;
      const assetDir = resolve(outdir, assetPath);
      const file = handler.slice(0, handler.lastIndexOf('.'));
      if (!['.mjs', '.js', '.cjs'].some((ext) => existsSync(join(assetDir, file + ext)))) continue;
      candidates.push({
        path: String(resource.Metadata?.['aws:cdk:path'] ?? ''),
        assetDir,
        handler,
        resource,
      });
    }
  }
  const chosen =
    candidates.length === 1
      ? candidates[0]
      : candidates.find((c) => /LoginFunction/.test(c.path) && !/Custom|Provider/.test(c.path));
  if (!chosen) {
    throw new Error(
      `cannot tell the login function's bundle in ${outdir}: ${candidates.length} bundled functions (${candidates.map((c) => c.path).join(', ')})`,
    );
  }
  const variables = chosen.resource.Properties?.Environment?.Variables ?? {};
  const environment = Object.fromEntries(
    Object.entries(variables).filter(
      (entry): entry is [string, string] => typeof entry[1] === 'string',
    ),
  );
  return {
    assetDir: chosen.assetDir,
    handler: chosen.handler,
    environment,
    memoryMb: chosen.resource.Properties?.MemorySize,
  };
}
