import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { USERS_TABLE_KEY } from '../functions/commons/names.ts';

/**
 * Whether an executable named `command` is on PATH. Looked up rather than run: starting
 * moto_server's Python only to ask for `--help` takes most of a second, in every process
 * that imports this module.
 */
export function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    if (!dir) return false;
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Whether `moto_server` (pip install "moto[server]") is on this machine. */
export const motoAvailable: boolean = onPath('moto_server');

/** Why moto tests are skipped, printed once per file that skips them. */
export const MOTO_MISSING =
  'moto_server is not installed: the Secrets Manager tests cannot run. Install it with: pip install "moto[server]"';

/** In CI the emulator tests must run: a missing moto_server fails instead of skipping. */
export function requireMotoInCi(): void {
  if (!motoAvailable && process.env.CI) throw new Error(MOTO_MISSING);
  if (!motoAvailable) process.stderr.write(`SKIPPED: ${MOTO_MISSING}\n`);
}

export interface Moto {
  /** e.g. http://127.0.0.1:41234 — for AWS_ENDPOINT_URL_SECRETS_MANAGER and AWS_ENDPOINT_URL_KMS. */
  readonly endpoint: string;
  /** Environment that points the function (or the SDK) at this emulator. */
  readonly env: Record<string, string>;
  createSecret(name: string, value: string): Promise<string>;
  putSecret(id: string, value: string): Promise<void>;
  deleteSecret(id: string): Promise<void>;
  /** A SYMMETRIC_DEFAULT ENCRYPT_DECRYPT KMS key, as the stack creates for open data. */
  createSymmetricKey(alias?: string): Promise<{ readonly keyId: string; readonly arn: string }>;
  /** An RSA_2048 SIGN_VERIFY KMS key, as the stack creates it, optionally with an alias. */
  createSigningKey(alias?: string): Promise<{ readonly keyId: string; readonly arn: string }>;
  /** Any other KMS call, e.g. `GetPublicKey`. */
  kms(operation: string, body: object): Promise<Record<string, unknown>>;
  /**
   * A users table as the stack creates it: partition key `id` (a string), on-demand. Returns
   * its name; the name given is used as is.
   */
  createUsersTable(name: string): Promise<string>;
  /** Any DynamoDB call, e.g. `GetItem`, to read what the function wrote. */
  dynamodb(operation: string, body: object): Promise<Record<string, unknown>>;
  /** Stops the process (SIGSTOP) so calls hang, or resumes it: only on a moto started here. */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

export const MOTO_REGION = 'us-east-1';

/** Starts moto_server on a free loopback port and waits until it answers. */
export async function startMoto(): Promise<Moto> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: 'ignore',
  });
  await waitUntilUp(endpoint, child);
  return motoClient(endpoint, child);
}

/**
 * A moto_server someone else started and stops (e.g. the test run's, shared by its files):
 * `stop` leaves it running, and it cannot be paused, since other callers share it.
 */
export async function connectMoto(endpoint: string): Promise<Moto> {
  await waitUntilUp(endpoint);
  return motoClient(endpoint);
}

function motoClient(endpoint: string, child?: ChildProcess): Moto {
  const notOurs = () => {
    throw new Error('this moto_server is shared: start one with startMoto() to pause it');
  };
  const env = {
    AWS_REGION: MOTO_REGION,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_SESSION_TOKEN: 'testing',
    AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint,
    AWS_ENDPOINT_URL_KMS: endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: endpoint,
  };
  /**
   * One call; `target` is `secretsmanager.CreateSecret`, `TrentService.CreateKey` or
   * `DynamoDB_20120810.GetItem`.
   */
  const call = async (target: string, body: object): Promise<Record<string, unknown>> => {
    const dynamodb = target.startsWith('DynamoDB_20120810.');
    const service = dynamodb
      ? 'dynamodb'
      : target.startsWith('TrentService.')
        ? 'kms'
        : 'secretsmanager';
    const response = await fetch(endpoint, {
      method: 'POST',
      headers: {
        // DynamoDB speaks AWS JSON 1.0, the others 1.1.
        'content-type': `application/x-amz-json-${dynamodb ? '1.0' : '1.1'}`,
        'x-amz-target': target,
        // moto does not check signatures, but it reads the region from the scope.
        authorization: `AWS4-HMAC-SHA256 Credential=testing/20260101/${MOTO_REGION}/${service}/aws4_request, SignedHeaders=host, Signature=0`,
      },
      body: JSON.stringify(body),
    });
    const json = (await response.json()) as Record<string, unknown>;
    if (!response.ok) throw new Error(`moto ${target}: ${response.status} ${JSON.stringify(json)}`);
    return json;
  };
  return {
    endpoint,
    env,
    createSecret: async (name, value) =>
      String((await call('secretsmanager.CreateSecret', { Name: name, SecretString: value })).ARN),
    putSecret: async (id, value) => {
      await call('secretsmanager.PutSecretValue', { SecretId: id, SecretString: value });
    },
    deleteSecret: async (id) => {
      await call('secretsmanager.DeleteSecret', { SecretId: id, ForceDeleteWithoutRecovery: true });
    },
    kms: (operation, body) => call(`TrentService.${operation}`, body),
    createSymmetricKey: async (alias) => {
      const { KeyMetadata: key } = (await call('TrentService.CreateKey', {
        KeySpec: 'SYMMETRIC_DEFAULT',
        KeyUsage: 'ENCRYPT_DECRYPT',
      })) as { KeyMetadata: { KeyId: string; Arn: string } };
      if (alias)
        await call('TrentService.CreateAlias', { AliasName: alias, TargetKeyId: key.KeyId });
      return { keyId: key.KeyId, arn: key.Arn };
    },
    createSigningKey: async (alias) => {
      const { KeyMetadata: key } = (await call('TrentService.CreateKey', {
        KeySpec: 'RSA_2048',
        KeyUsage: 'SIGN_VERIFY',
      })) as { KeyMetadata: { KeyId: string; Arn: string } };
      if (alias)
        await call('TrentService.CreateAlias', { AliasName: alias, TargetKeyId: key.KeyId });
      return { keyId: key.KeyId, arn: key.Arn };
    },
    createUsersTable: async (name) => {
      await call('DynamoDB_20120810.CreateTable', {
        TableName: name,
        AttributeDefinitions: [{ AttributeName: USERS_TABLE_KEY, AttributeType: 'S' }],
        KeySchema: [{ AttributeName: USERS_TABLE_KEY, KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      });
      return name;
    },
    dynamodb: (operation, body) => call(`DynamoDB_20120810.${operation}`, body),
    pause: () => (child ? child.kill('SIGSTOP') : notOurs()),
    resume: () => (child ? child.kill('SIGCONT') : notOurs()),
    stop: () =>
      new Promise((resolve) => {
        if (!child || child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGCONT');
        child.kill('SIGTERM');
      }),
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function waitUntilUp(endpoint: string, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null)
      throw new Error(`moto_server exited with ${child.exitCode}`);
    try {
      await fetch(`${endpoint}/moto-api/`);
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  child?.kill('SIGKILL');
  throw new Error(`moto_server did not answer at ${endpoint} within 15 s`);
}
