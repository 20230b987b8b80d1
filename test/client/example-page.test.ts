// @vitest-environment jsdom
/**
 * The example mini program's page, run in WeChat's component test framework
 * (miniprogram-simulate on j-component), with its WXML compiled by the official compiler
 * (`wcc`, the one the devtools use), talking to the real local server through the stand-in wx.
 * The phone number, open data and account deletion routes are answered by the fake backend in
 * front of it, which forwards the logins and everything else.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeBackend, PHONE_NUMBER, startFakeBackend } from '../support/fake-backend.ts';
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
  ):
    | { dispatchEvent(event: string, options?: { detail: unknown }): void; readonly dom: DomNode }
    | undefined;
  readonly dom: DomNode;
  readonly data: Record<string, unknown>;
}

let sandbox: Sandbox;
let backend: FakeBackend;
let standIn: StandIn;
let simulate: Simulate;
beforeAll(async () => {
  sandbox = await startSandbox();
  backend = await startFakeBackend(sandbox.baseUrl);
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
    exports: { BASE_URL: backend.baseUrl },
  } as NodeJS.Module;
}, 30_000);
afterAll(async () => {
  await backend?.close();
  await sandbox?.stop();
});

function renderPage(): Page {
  const page = simulate.render(simulate.load(PAGE, { rootPath: ROOT, compiler: 'official' }));
  const { document } = globalThis as unknown as {
    document: { createElement(tag: string): unknown };
  };
  page.attach(document.createElement('parent-wrapper'));
  return page;
}

/** Taps #id (or fires `event` on it with `detail`), then waits until `until` holds. */
async function tap(
  page: Page,
  id: string,
  until: () => boolean,
  event = 'tap',
  detail: unknown = {},
): Promise<void> {
  const button = page.querySelector(`#${id}`);
  if (!button) throw new Error(`no #${id} in the rendered page`);
  button.dispatchEvent(event, { detail });
  for (let waited = 0; !until(); waited += 20) {
    if (waited > 5000) throw new Error(`tapping #${id} changed nothing: ${page.dom.textContent}`);
    await simulate.sleep(20);
  }
}

const text = (page: Page, id: string) => page.querySelector(`#${id}`)?.dom.textContent ?? '';

describe('the example page', () => {
  it('renders its six buttons from the WXML', () => {
    const page = renderPage();

    for (const id of ['login', 'whoami', 'phone', 'steps', 'logout', 'delete'])
      expect(page.querySelector(`#${id}`)).toBeTruthy();
    expect(page.dom.textContent).toContain('Log in');
    expect(page.dom.textContent).toContain('Delete my account');
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

  it('binds the phone number from the getPhoneNumber button and shows it', async () => {
    const page = renderPage();
    const detail = { errMsg: 'getPhoneNumber:ok', code: 'page-phone-code-1' };

    await tap(
      page,
      'phone',
      () => !page.data.busy && (!!page.data.phoneNumber || !!page.data.error),
      'getphonenumber',
      detail,
    );

    expect(page.data.error).toBe('');
    expect(text(page, 'phoneNumber')).toBe(`phone: ${PHONE_NUMBER}`);
    const sent = sentTo(standIn, 'POST', '/phone');
    expect(sent.map((r) => JSON.parse(r.body))).toEqual([{ code: 'page-phone-code-1' }]);
    expect(sent[0]?.headers.authorization).toMatch(/^Bearer /);
  });

  it('shows the detail when the user declines to share the number, sending nothing', async () => {
    const page = renderPage();
    const before = standIn.sent.length;

    await tap(page, 'phone', () => !page.data.busy && !!page.data.error, 'getphonenumber', {
      errMsg: 'getPhoneNumber:fail user deny',
    });

    expect(text(page, 'error')).toContain('declined');
    expect(page.data.errorCode).toBe('phone_denied');
    expect(standIn.sent).toHaveLength(before);
  });

  it('shows the latest day of the WeRun steps, decrypted by the backend', async () => {
    const page = renderPage();

    await tap(page, 'steps', () => !page.data.busy && (!!page.data.steps || !!page.data.error));

    expect(page.data.error).toBe('');
    expect(text(page, 'stepCount')).toBe(`steps, latest day: ${standIn.steps.at(-1)}`);
  });

  it("shows the runtime's errMsg when the steps cannot be fetched", async () => {
    const page = renderPage();
    standIn.failWeRun('auth deny');

    try {
      await tap(page, 'steps', () => !page.data.busy && !!page.data.error);
    } finally {
      standIn.failWeRun(undefined);
    }

    expect(text(page, 'error')).toBe('getWeRunData:fail auth deny');
    expect(page.data.errorCode).toBe('open_data_fetch_failed');
  });

  it('deletes the account and forgets the session', async () => {
    const page = renderPage();
    await tap(page, 'login', () => !page.data.busy && !!page.data.openid);

    await tap(page, 'delete', () => !page.data.busy && (!!page.data.notice || !!page.data.error));

    expect(page.data.error).toBe('');
    expect(text(page, 'notice')).toMatch(/deleted/);
    expect(page.data.openid).toBe('');
    expect(sentTo(standIn, 'DELETE', '/me')).toHaveLength(1);
    expect(standIn.storage.size).toBe(0);
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
