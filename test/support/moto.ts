/**
 * The run's moto_server, shared by the files that need one: starting one per file cost each
 * of them a Python start-up. Files stay independent of each other by naming what they create
 * with `uniqueName`. A file that pauses moto (SIGSTOP) starts its own with `startMoto`.
 */
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { connectMoto, type Moto, startMoto } from '../../harness/moto.ts';

/** The run's moto_server (global-setup.ts), or a fresh one outside such a run. */
export function sharedMoto(): Promise<Moto> {
  const endpoint = inject('motoEndpoint');
  return endpoint ? connectMoto(endpoint) : startMoto();
}

/** `prefix` made unique, for a secret or an alias in a moto_server other files share. */
export const uniqueName = (prefix: string): string => `${prefix}-${randomUUID().slice(0, 8)}`;
