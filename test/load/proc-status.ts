import { readFileSync } from 'node:fs';

/** A memory field of /proc/<pid>/status, in MiB (NaN where /proc is not available). */
export function readStatus(pid: number | undefined, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
    return kib / 1024;
  } catch {
    return Number.NaN;
  }
}
