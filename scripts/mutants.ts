/**
 * `npm run mutants`: do the property tests catch real bugs? Each mutant plants one defect in
 * a copy of the project (functions/ and test/, with node_modules linked) and runs the handler
 * properties with the CI seed against it. A mutant the properties do not kill is reported, and
 * the command exits 1. The working tree is never touched.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PROPERTIES = 'test/properties/handler.property.test.ts';

interface Mutant {
  readonly name: string;
  readonly file: string;
  readonly from: string;
  readonly to: string;
}

export const MUTANTS: readonly Mutant[] = [
  {
    name: '>= instead of > at the 16 KiB limit',
    file: 'functions/handler/request.ts',
    from: "Buffer.byteLength(raw, 'utf8') > MAX_BODY_BYTES",
    to: "Buffer.byteLength(raw, 'utf8') >= MAX_BODY_BYTES",
  },
  {
    name: 'an unanchored Referer pattern',
    file: 'functions/handler/request.ts',
    from: '/^https:\\/\\/servicewechat',
    to: '/https:\\/\\/servicewechat',
  },
  {
    name: 'numeric-string errcodes no longer read',
    file: 'functions/adapters/wechat-client.ts',
    from: "if (typeof value === 'string' && /^-?",
    to: "if (false && typeof value === 'string' && /^-?",
  },
  {
    name: '40029 retried like -1',
    file: 'functions/adapters/wechat-client.ts',
    from: "if (errcode === -1) return 'busy';",
    to: "if (errcode === -1 || errcode === 40029) return 'busy';",
  },
  {
    name: 'no Retry-After on rate_limited',
    file: 'functions/handler/problems.ts',
    from: "title: 'Too many logins for this user', retryAfterSeconds: 60 }",
    to: "title: 'Too many logins for this user' }",
  },
  {
    name: 'the code quoted in a detail',
    file: 'functions/handler/request.ts',
    from: "Send the code from wx.login() unchanged.',",
    to: "Send the code from wx.login() unchanged.' + code,",
  },
  {
    name: 'the openid logged unmasked',
    file: 'functions/handler/login-record.ts',
    from: 'openid: maskOpenid(record.openid)',
    to: 'openid: record.openid',
  },
  {
    name: 'unionid dropped',
    file: 'functions/adapters/wechat-client.ts',
    from: "typeof unionid === 'string' && unionid !== '' ? { openid, unionid } : { openid }",
    to: '{ openid }',
  },
];

/** Runs the properties against one mutant; true when they fail (the mutant is killed). */
function killed(mutant: Mutant): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'weapp-openid-mutant-'));
  try {
    for (const entry of [
      'functions',
      'test',
      'package.json',
      'tsconfig.json',
      'vitest.config.ts',
    ]) {
      cpSync(join(ROOT, entry), join(dir, entry), { recursive: true });
    }
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
    const path = join(dir, mutant.file);
    const source = readFileSync(path, 'utf8');
    if (source.split(mutant.from).length !== 2) {
      throw new Error(`mutant "${mutant.name}": its text is not exactly once in ${mutant.file}`);
    }
    writeFileSync(path, source.replace(mutant.from, mutant.to));
    const run = spawnSync(
      join(ROOT, 'node_modules/.bin/vitest'),
      ['run', PROPERTIES, '--coverage.enabled=false'],
      { cwd: dir, env: { ...process.env, CI: '1' }, stdio: 'ignore' },
    );
    return run.status !== 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  let survivors = 0;
  for (const mutant of MUTANTS) {
    const started = Date.now();
    const dead = killed(mutant);
    if (!dead) survivors++;
    process.stdout.write(
      `${dead ? 'killed  ' : 'SURVIVED'}  ${mutant.name}  (${((Date.now() - started) / 1000).toFixed(0)} s)\n`,
    );
  }
  process.stdout.write(
    `${MUTANTS.length - survivors} of ${MUTANTS.length} mutants killed by ${PROPERTIES}\n`,
  );
  process.exit(survivors === 0 ? 0 : 1);
}
