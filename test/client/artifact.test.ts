import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { type Node, parse } from 'acorn';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Built, buildClient, DIST, EXAMPLE_COPY, kib } from '../../client/build.mts';

const CLIENT = join(import.meta.dirname, '..', '..', 'client');
const shipped = readFileSync(join(DIST, 'index.js'), 'utf8');

let built: Built;
beforeAll(async () => {
  built = await buildClient();
}, 60_000);

/** Every node of the tree, depth first. */
function* nodes(node: unknown): Generator<Node & Record<string, unknown>> {
  if (Array.isArray(node)) for (const child of node) yield* nodes(child);
  else if (node && typeof (node as Node).type === 'string') {
    yield node as Node & Record<string, unknown>;
    for (const value of Object.values(node))
      if (value && typeof value === 'object') yield* nodes(value);
  }
}

describe('the compiled client', () => {
  it('is what the source builds to (run npm run build:client after a change)', () => {
    expect(shipped).toBe(built.js);
    expect(readFileSync(join(DIST, 'index.d.ts'), 'utf8')).toBe(built.dts);
    expect(readFileSync(EXAMPLE_COPY, 'utf8')).toBe(built.js);
  });

  it('is marked generated, so that a review shows the source change and folds the built copies', () => {
    // Prepare
    const files = [join(DIST, 'index.js'), join(DIST, 'index.d.ts'), EXAMPLE_COPY];
    const source = join(CLIENT, 'src', 'index.ts');
    const generated = (paths: string[]) =>
      execFileSync('git', ['check-attr', 'linguist-generated', '--', ...paths], {
        cwd: CLIENT,
        encoding: 'utf8',
      })
        .trim()
        .split('\n');

    // Act
    const copies = generated(files);
    const written = generated([source]);

    // Assess
    expect(copies).toHaveLength(files.length);
    for (const line of copies) expect(line).toMatch(/: linguist-generated: true$/);
    expect(written).toEqual([expect.stringMatching(/: linguist-generated: unspecified$/)]);
  });

  it('parses as an ES2018 script: no newer syntax, no import or export', () => {
    expect(() => parse(shipped, { ecmaVersion: 2018, sourceType: 'script' })).not.toThrow();
  });

  it('requires nothing and touches no Node or browser global, and never logs', () => {
    const tree = parse(shipped, { ecmaVersion: 2018, sourceType: 'script' });
    const names = new Set(
      [...nodes(tree)].filter((n) => n.type === 'Identifier').map((n) => n.name),
    );

    for (const name of [
      'require',
      'process',
      'Buffer',
      'global',
      'globalThis',
      'window',
      'document',
      'console',
      '__dirname',
    ]) {
      expect(names, name).not.toContain(name);
    }
    expect([...nodes(tree)].some((n) => n.type === 'ImportExpression')).toBe(false);
  });

  it('stays small: the size docs/client.md states', () => {
    const raw = Buffer.byteLength(shipped);
    const gzip = gzipSync(shipped).length;
    const page = readFileSync(join(CLIENT, '..', 'docs', 'client.md'), 'utf8');

    expect(raw).toBeLessThan(17 * 1024);
    expect(gzip).toBeLessThan(5.5 * 1024);
    expect(page).toContain(`${kib(raw)}, ${kib(gzip)} gzipped`);
  });

  it('is found by build npm and by main, with no dependency', () => {
    const pkg = JSON.parse(readFileSync(join(CLIENT, 'package.json'), 'utf8')) as Record<
      string,
      unknown
    >;

    expect(pkg).toMatchObject({
      miniprogram: 'miniprogram_dist',
      main: 'miniprogram_dist/index.js',
    });
    expect(pkg.dependencies).toBeUndefined();
    expect(createRequire(import.meta.url)(CLIENT).createClient).toBeTypeOf('function');
  });

  it('has declarations that type-check a mini program written in TypeScript', () => {
    const project = mkdtempSync(join(tmpdir(), 'weapp-openid-consumer-'));
    try {
      copyFileSync(join(DIST, 'index.d.ts'), join(project, 'weapp-openid.d.ts'));
      writeFileSync(
        join(project, 'page.ts'),
        [
          "import { createClient, type ClientError } from './weapp-openid';",
          "const client = createClient({ baseUrl: 'https://login.example.com' });",
          'async function whoAmI(): Promise<string> {',
          '  const { openid, expiresAt } = await client.login();',
          "  const me = await client.request<{ appid: string }>({ url: '/me', method: 'GET', timeout: 5000 });",
          "  return [openid, expiresAt, me.statusCode, me.data.appid, me.header['content-type']].join(' ');",
          '}',
          'whoAmI().catch((e: ClientError) => wx.showToast({ title: e.detail + e.code + e.status }));',
          '// @ts-expect-error: method is one of the HTTP methods wx.request knows',
          "client.request({ url: '/me', method: 'FETCH' });",
          'async function onPhone(e: WechatMiniprogram.ButtonGetPhoneNumber): Promise<string> {',
          '  const { phoneNumber, countryCode } = await client.bindPhone(e.detail);',
          '  const session = await client.login();',
          "  return [phoneNumber, countryCode, session.phoneNumber ?? '', session.countryCode ?? ''].join(' ');",
          '}',
          'interface WeRun { stepInfoList: { timestamp: number; step: number }[] }',
          'async function steps(): Promise<number> {',
          '  const { stepInfoList } = await client.openData<WeRun>(() => wx.getWeRunData());',
          "  await client.bindPhone('a-bare-code');",
          '  await client.deleteAccount();',
          '  return stepInfoList.length;',
          '}',
          'onPhone({} as WechatMiniprogram.ButtonGetPhoneNumber).then(steps);',
          '// @ts-expect-error: openData takes a function that fetches, not the data itself',
          "client.openData({ encryptedData: '', iv: '' });",
          '',
        ].join('\n'),
      );
      const types = join(CLIENT, '..', 'node_modules');
      const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
      const run = () =>
        execFileSync(
          process.execPath,
          [
            tsc,
            '--noEmit',
            '--strict',
            // The typings are large and not ours to check; a name of theirs that our declarations
            // failed to resolve would still show, as the @ts-expect-error below would go unused.
            '--skipLibCheck',
            '--target',
            'es2018',
            '--lib',
            'es2018',
            '--module',
            'commonjs',
            '--typeRoots',
            types,
            '--types',
            'miniprogram-api-typings',
            join(project, 'page.ts'),
          ],
          { encoding: 'utf8' },
        );
      expect(run).not.toThrow();
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  }, 60_000);
});
