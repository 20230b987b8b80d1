/**
 * Preloaded into the server that test/load/sandbox-memory.ts measures (`node --expose-gc
 * --import`): on the message `gc` from the parent, a full GC, answered with the memory still
 * in use, so that retained memory can be told from garbage V8 has not collected yet.
 */
import { readStatus } from './proc-status.ts';

/** The answer to `gc`, in MiB. */
export interface Retained {
  readonly rssMiB: number;
  readonly heapUsedMiB: number;
}

process.on('message', (message) => {
  if (message !== 'gc') return;
  (globalThis as { gc?: () => void }).gc?.();
  const retained: Retained = {
    rssMiB: readStatus(process.pid, 'VmRSS'),
    heapUsedMiB: process.memoryUsage().heapUsed / 2 ** 20,
  };
  process.send?.(retained);
});
