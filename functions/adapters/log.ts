import type { Logger } from '../domain/ports.ts';

/** Structured JSON logs, one object per line on stdout, as CloudWatch Logs and EMF expect. */
export type LineWriter = (line: string) => void;

// Written straight to stdout: console.* in Lambda prefixes each line, which EMF cannot parse.
const stdout: LineWriter = (line) => {
  process.stdout.write(`${line}\n`);
};

/** A logger that stamps every line with `base` (e.g. the service name). */
export function createLogger(base: Record<string, unknown> = {}, out: LineWriter = stdout): Logger {
  const emit = (level: string, message: string, fields?: Record<string, unknown>) =>
    out(
      JSON.stringify(
        { level, time: new Date().toISOString(), ...base, message, ...fields },
        replaceErrors,
      ),
    );
  return {
    info: (message, fields) => emit('INFO', message, fields),
    warn: (message, fields) => emit('WARN', message, fields),
    error: (message, fields) => emit('ERROR', message, fields),
    write: (record) =>
      out(JSON.stringify({ time: new Date().toISOString(), ...base, ...record }, replaceErrors)),
  };
}

function replaceErrors(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    return { name: value.name, message: value.message, stack: value.stack };
  }
  return value;
}
