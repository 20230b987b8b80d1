import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, inject } from 'vitest';
import { createApp } from '../../infra/app.ts';

/** One synthesized variant of the stack. */
export interface Synthesized {
  readonly template: Template;
  readonly json: Record<string, unknown>;
}

const cache = new Map<string, Synthesized>();
const dirs: string[] = [];

/** A fresh directory for a cloud assembly (or anything else), removed after the test file. */
export function scratchDir(prefix = 'weapp-openid-cdk-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

afterAll(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/**
 * Synthesizes the real app (cdk-nag included, so a finding fails here too) with the given
 * context, once per variant per test run: bundling makes each synth slow, and several files
 * look at the same variants. Within a run (global-setup.ts) the template is kept in the
 * run's directory, where the other files find it; outside one, in this process.
 */
export function synth(context: Record<string, string> = {}): Synthesized {
  const key = JSON.stringify(Object.entries(context).sort(([a], [b]) => a.localeCompare(b)));
  const cached = cache.get(key);
  if (cached) return cached;
  const file = templateFile(key);
  let json = file && readTemplate(file);
  if (!json) {
    json = synthesize(context);
    if (file) writeTemplate(file, json);
  }
  const result = { template: Template.fromJSON(json), json };
  cache.set(key, result);
  return result;
}

function synthesize(context: Record<string, string>): Record<string, unknown> {
  const { stack } = createApp({ context, outdir: scratchDir() });
  return Template.fromStack(stack).toJSON();
}

/** Where the run keeps the template of this variant, if in a run. */
function templateFile(key: string): string | undefined {
  const runDir = inject('runDir');
  if (!runDir) return undefined;
  const dir = join(runDir, 'templates');
  mkdirSync(dir, { recursive: true });
  return join(dir, `${createHash('sha256').update(key).digest('hex').slice(0, 16)}.json`);
}

function readTemplate(file: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** Written whole, then renamed: another file may be reading, or writing the same variant. */
function writeTemplate(file: string, json: Record<string, unknown>): void {
  const partial = `${file}.${process.pid}.tmp`;
  writeFileSync(partial, JSON.stringify(json));
  renameSync(partial, file);
}

/** The parts of a synthesized resource the tests look at. */
export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly DeletionPolicy?: string;
}

/** Every resource of one CloudFormation type, by logical id. */
export function resourcesOf(
  json: Record<string, unknown>,
  type: string,
): Record<string, CfnResource> {
  const resources = json.Resources as Record<string, CfnResource>;
  return Object.fromEntries(Object.entries(resources).filter(([, r]) => r.Type === type));
}

/** The only resource of a type, failing loudly when there are more or none. */
export function onlyLogicalId(json: Record<string, unknown>, type: string): string {
  const ids = Object.keys(resourcesOf(json, type));
  if (ids.length !== 1) throw new Error(`expected one ${type}, found ${ids.length}`);
  return ids[0] as string;
}

export const DOMAIN_CONTEXT = {
  domainName: 'login.example.com',
  certificateArn:
    'arn:aws:acm:ap-northeast-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0',
};

/** Two mini programs whose tokens GET /me accepts, and a day-long token. */
export const APP_IDS_CONTEXT = {
  appIds: 'wx0123456789abcdef,wx4f4bc4dec97d474b',
  sessionTtlSeconds: '86400',
};

/**
 * The deploys of a session key rotation (docs/operators.md), from the default single key
 * named `default` to one named `next`.
 */
export const ROTATION_STEPS = {
  /** The default: one key, `default`, signing. */
  start: {},
  /** Steps 1 and 2: `next` is created and published; `default` still signs. */
  publish: { sessionKeys: 'default,next', sessionSigningKey: 'default' },
  /** Step 3: `next` signs; `default` stays published for the tokens it signed. */
  switch: { sessionKeys: 'default,next', sessionSigningKey: 'next' },
  /** Step 4: `default` is gone. */
  retire: { sessionKeys: 'next' },
} as const satisfies Record<string, Record<string, string>>;

/** One statement of a KMS key policy, as synthesized. */
export interface KeyPolicyStatement {
  readonly Sid?: string;
  readonly Effect: string;
  readonly Principal: unknown;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: unknown;
}

/** The statements of the key policy of the KMS key with this logical id. */
export function keyPolicyOf(
  json: Record<string, unknown>,
  logicalId: string | undefined,
): KeyPolicyStatement[] {
  const policy = resourcesOf(json, 'AWS::KMS::Key')[logicalId ?? '']?.Properties?.KeyPolicy;
  if (!policy) throw new Error(`no KMS key ${logicalId} with a key policy`);
  return (policy as { Statement: KeyPolicyStatement[] }).Statement;
}

/** Whether a statement's principal is the account root (`arn:…:iam::{account}:root`). */
export function isAccountRoot(statement: KeyPolicyStatement): boolean {
  return JSON.stringify(statement.Principal).includes('":root"');
}

/** Whether any of these IAM actions, wildcards included, allows `action` (case-insensitive, as IAM). */
export function allows(actions: string | readonly string[], action: string): boolean {
  return [actions].flat().some((pattern) => {
    const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
    return new RegExp(`^${escaped}$`, 'i').test(action);
  });
}
