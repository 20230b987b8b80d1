import os from 'node:os';
import type { LoopSummary } from './bench-process.ts';
import type { BuiltinsCase } from './builtins.ts';
import type { KeyParse } from './key-parse.ts';
import type { ColdProfile, GcWindow } from './profile.ts';
import type { Spread } from './stats.ts';

export interface VariantResult {
  readonly id:
    | 'ours'
    | 'best-practice'
    | 'tutorial'
    | 'ours-no-source-maps'
    | 'ours-sessions'
    | 'best-practice-sessions';
  readonly label: string;
  readonly size: { raw: number; gzip: number; files: number; note?: string };
  readonly cold: {
    /** Parent-side: spawn() → the first 200's result line. */
    readonly wallMs: Spread;
    /** Child-side: the dynamic import alone. */
    readonly importMs: Spread;
    /** Per run: spawn() → the child's time origin, plus the result line's way back (wall − child's own time). */
    readonly beforeTimeOriginMs: Spread;
    /** Per run: the child's time origin → the import (Node.js boot and the harness's start). */
    readonly beforeImportMs: Spread;
    /** Node.js internal modules and bindings loaded by the import (median). */
    readonly builtinsLoaded: number;
    /** Child-side: the first invocation alone. */
    readonly firstInvocationMs: Spread;
    readonly maxRssMb: Spread;
    readonly smCallsPerColdStart: number;
    /** KMS calls per cold start (median and most over the runs); with sessions only. */
    readonly kms?: { getPublicKey: number; getPublicKeyMax: number; sign: number };
    /** Every run's wall time, in the order run. */
    readonly wallSamplesMs: number[];
  };
  readonly warm?: {
    readonly invocations: number;
    readonly rounds: LoopSummary[];
    /** The invocations right after the cold one (JIT warm-up included); medians over the rounds. */
    readonly p50: number;
    readonly p99: number;
    /** The next as many invocations in the same process. */
    readonly steady: { rounds: LoopSummary[]; p50: number; p99: number };
    /** Secrets Manager calls during each round's warm invocations (the cold one excluded). */
    readonly smCalls: number[];
    /** KMS calls during each round's two windows (the cold one excluded); with sessions only. */
    readonly kms?: { getPublicKey: number[]; sign: number[] };
    readonly maxRssMb: number;
  };
}

export interface BenchResults {
  readonly date: string;
  readonly machine: ReturnType<typeof machine>;
  readonly command: string;
  readonly settings: { coldRuns: number; warmInvocations: number; warmRounds: number };
  readonly memoryMb: number;
  /** The stage's default throttle (infra/config.ts), for the KMS quota table. */
  readonly throttle: { rateLimit: number; burstLimit: number };
  readonly variants: VariantResult[];
  /** A bare keep-alive node:http GET to the same fake WeChat, in the same kind of process. */
  readonly bareHttp: LoopSummary | undefined;
  readonly ttlCheck: { ttlSeconds: number; seconds: number; invocations: number; smCalls: number };
  readonly bundle: {
    ours: { name: string; bytes: number }[];
    bestPractice: { name: string; bytes: number }[];
    sourceMapBytes: number;
    /** Bytes of the output from `@aws-sdk/*` and `@smithy/*`. */
    sdkBytes: { ours: number; bestPractice: number };
  };
  readonly profile: ColdProfile;
  /** The session path: what it adds to ours, and where. */
  readonly sessions: {
    /** A bare keep-alive `Sign` POST to moto through the proxy, in ours' warm process. */
    readonly bareSign: LoopSummary | undefined;
    /** `GetPublicKey`'s answer → JWK and kid, in fresh processes. */
    readonly keyParse: KeyParse;
    /** Bytes of ours' output from the modules only the session path runs. */
    readonly sessionModuleBytes: number;
    /** Bytes of the sessions baseline's output from `@aws-sdk/client-kms` itself. */
    readonly clientKmsBytes: number;
    /** Cold starts of ours with sessions on under --cpu-prof, like `profile`. */
    readonly profile: ColdProfile;
  };
  /** Ours under --trace-gc, in a separate warm process: the same two windows. */
  readonly gc: { afterCold: GcWindow; steady: GcWindow };
  /** Getting node:http(s)/crypto each way, in fresh processes. */
  readonly builtins: BuiltinsCase[];
  readonly elapsedSeconds: number;
}

export function machine() {
  return {
    nproc: os.availableParallelism(),
    cpu: os.cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
  };
}

/** One variant's figures, by id. */
export function pick(results: BenchResults, id: VariantResult['id']): VariantResult {
  const variant = results.variants.find((v) => v.id === id);
  if (!variant) throw new Error(`no results for ${id}`);
  return variant;
}
