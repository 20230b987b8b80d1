// @vitest-environment jsdom
/**
 * The example mini program's page, run in WeChat's component test framework
 * (miniprogram-simulate on j-component), with its WXML compiled by the official compiler
 * (`wcc`, the one the devtools use), talking to the real local server through the stand-in wx.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../support/local-server.ts';
import { type StandIn, sentTo, standInWx } from '../support/wx-runtime.ts';

const require = createRequire(import.meta.url);
const ROOT = `${join(import.meta.dirname, '..', '..', 'examples', 'miniprogram')}/`;
const PAGE = `${ROOT}pages/index/index`;

interface Simulate {
  load(path: string, options: { rootPath: string; compiler: 'official' }): string;
  render(id: string): Page;
  sleep(ms: number): Promise<void>;
}
/** What the tests read of a rendered node (the root tsconfig has no DOM types). */
interface DomNode {
  readonly textContent: string | null;
}
interface Page {
  attach(parent: unknown): void;
  querySelector(
    selector: string,
  ): { dispatchEvent(event: string): void; readonly dom: DomNode } | undefined;
  readonly dom: DomNode;
  readonly data: Record<string, unknown>;
}

let sandbox: Sandbox;
let standIn: StandIn;
let simulate: Simulate;
beforeAll(async () => {
  sandbox = await startSandbox();
  simulate = require('miniprogram-simulate') as Simulate;
  // The runtime's wx, as the page sees it: the framework's mock, with login, request and
  // storage taken from the stand-in.
  standIn = standInWx();
  Object.assign((globalThis as unknown as { wx: object }).wx, standIn.wx);
  // What a developer does to config.js, done before the page first requires it.
  const config = require.resolve(`${ROOT}config.js`);
  require.cache[config] = {
    id: config,
    filename: config,
    loaded: true,
    exports: { BASE_URL: sandbox.baseUrl },
  } as NodeJS.Module;
}, 30_000);
afterAll(() => sandbox?.stop());

function renderPage(): Page {
  const page = simulate.render(simulate.load(PAGE, { rootPath: ROOT, compiler: 'official' }));
  const { document } = globalThis as unknown as {
    document: { createElement(tag: string): unknown };
  };
  page.attach(document.createElement('parent-wrapper'));
  return page;
}

async function tap(page: Page, id: string, until: () => boolean): Promise<void> {
  const button = page.querySelector(`#${id}`);
  if (!button) throw new Error(`no #${id} in the rendered page`);
  button.dispatchEvent('tap');
  for (let waited = 0; !until(); waited += 20) {
    if (waited > 5000) throw new Error(`tapping #${id} changed nothing: ${page.dom.textContent}`);
    await simulate.sleep(20);
  }
}

const text = (page: Page, id: string) => page.querySelector(`#${id}`)?.dom.textContent ?? '';

describe('the example page', () => {
  it('renders its three buttons from the WXML', () => {
    const page = renderPage();

    for (const id of ['login', 'whoami', 'logout'])
      expect(page.querySelector(`#${id}`)).toBeTruthy();
    expect(page.dom.textContent).toContain('Log in');
  });

  it('logs in on a tap and shows the openid from the local server', async () => {
    const page = renderPage();
    const before = standIn.issuedCodes.length;

    await tap(page, 'login', () => !page.data.busy && (!!page.data.openid || !!page.data.error));

    expect(page.data.error).toBe('');
    expect(standIn.issuedCodes.length).toBe(before + 1);
    expect(text(page, 'openid')).toMatch(/^openid: o[\w-]{27}$/);
  });

  it('asks GET /me who the user is, with the session', async () => {
    const page = renderPage();

    await tap(page, 'whoami', () => !page.data.busy && (!!page.data.me || !!page.data.error));

    expect(page.data.error).toBe('');
    expect(text(page, 'me')).toMatch(/^GET \/me: wx\w{16}, session valid until/);
    expect(sentTo(standIn, 'GET', '/me').at(-1)?.headers.authorization).toMatch(/^Bearer /);
  });

  it('shows the detail of a failure, here a user WeChat blocked', async () => {
    const page = renderPage();
    await tap(page, 'logout', () => !page.data.openid);
    standIn.codes.push('sandbox-user-blocked');

    await tap(page, 'login', () => !page.data.busy && !!page.data.error);

    expect(text(page, 'error').length).toBeGreaterThan(10);
    expect(page.dom.textContent).toContain('user_blocked');
  });
});

describe('the example mini program', () => {
  it('has the files the devtools open: app.json pages, project.config.json, sitemap', () => {
    const app = JSON.parse(readFileSync(`${ROOT}app.json`, 'utf8')) as { pages: string[] };
    const project = JSON.parse(readFileSync(`${ROOT}project.config.json`, 'utf8')) as Record<
      string,
      unknown
    >;

    expect(project).toMatchObject({ compileType: 'miniprogram', appid: expect.any(String) });
    for (const page of app.pages) {
      for (const ext of ['js', 'json', 'wxml', 'wxss'])
        expect(existsSync(`${ROOT}${page}.${ext}`)).toBe(true);
    }
    expect(existsSync(`${ROOT}sitemap.json`)).toBe(true);
  });

  it('has WXSS the official compiler (wcsc) accepts', () => {
    const compiler = require('miniprogram-compiler') as { wxssToJs(root: string): string };

    expect(compiler.wxssToJs(ROOT)).toContain('.container');
  });
});
