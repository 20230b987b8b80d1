import { afterEach, describe, expect, it } from 'vitest';
import {
  SANDBOX_APP_SECRET,
  type SandboxWechat,
  type SandboxWechatOptions,
  startSandboxWechat,
} from '../../functions/local/sandbox-wechat.ts';

const MINUTE = 60_000;
const APP_ID = 'wx00000000000000aa';

/** A clock the test moves by hand. */
function manualClock() {
  let now = 0;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

let sandbox: SandboxWechat | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

async function start(options: SandboxWechatOptions): Promise<SandboxWechat> {
  sandbox = await startSandboxWechat(options);
  return sandbox;
}

/** code2Session as the backend calls it; answers WeChat's JSON. */
async function code2Session(wechat: SandboxWechat, code: string): Promise<Record<string, unknown>> {
  const url = new URL('/sns/jscode2session', wechat.url);
  url.search = new URLSearchParams({
    appid: APP_ID,
    secret: SANDBOX_APP_SECRET,
    js_code: code,
    grant_type: 'authorization_code',
  }).toString();
  return (await (await fetch(url)).json()) as Record<string, unknown>;
}

const CODE_USED = { errcode: 40163, errmsg: 'code been used' };

describe('the sandbox WeChat', () => {
  it('refuses a code used again just under 5 minutes later with 40163, and remembers it', async () => {
    const clock = manualClock();
    const wechat = await start({ now: clock.now });
    const first = await code2Session(wechat, 'code-reused');

    clock.advance(5 * MINUTE - 1);
    const again = await code2Session(wechat, 'code-reused');

    expect(first).toHaveProperty('openid');
    expect(again).toEqual(CODE_USED);
    expect(wechat.remembered).toBe(1);
  });

  it('logs a code in again 5 minutes after its first use, when WeChat would have expired it', async () => {
    const clock = manualClock();
    const wechat = await start({ now: clock.now });
    const first = await code2Session(wechat, 'code-expired');
    clock.advance(4 * MINUTE);
    const refused = await code2Session(wechat, 'code-expired');

    // The refused use at 4 minutes does not restart the 5 minutes.
    clock.advance(1 * MINUTE);
    const later = await code2Session(wechat, 'code-expired');

    expect(refused).toEqual(CODE_USED);
    expect(later).toEqual(first);
  });

  it('forgets codes once their 5 minutes are up, so what it holds shrinks', async () => {
    const clock = manualClock();
    const wechat = await start({ now: clock.now });
    for (const code of ['code-a', 'code-b', 'code-c']) await code2Session(wechat, code);
    clock.advance(2 * MINUTE);
    await code2Session(wechat, 'code-d');
    const before = wechat.remembered;

    clock.advance(3 * MINUTE);
    await code2Session(wechat, 'code-e');

    expect(before).toBe(4);
    expect(wechat.remembered).toBe(2);
    expect(await code2Session(wechat, 'code-d')).toEqual(CODE_USED);
  });

  it('with a bound of 3, forgets the oldest code first and never holds more than 3', async () => {
    const wechat = await start({ now: manualClock().now, maxRemembered: 3 });
    for (const code of ['code-1', 'code-2', 'code-3', 'code-4']) await code2Session(wechat, code);
    const held = wechat.remembered;

    const newest = await code2Session(wechat, 'code-4');
    const oldest = await code2Session(wechat, 'code-1');
    const next = await code2Session(wechat, 'code-2');

    expect(held).toBe(3);
    expect(newest).toEqual(CODE_USED);
    expect(oldest).toHaveProperty('openid');
    // Logging code-1 in again made code-2 the oldest, and so forgotten.
    expect(next).toHaveProperty('openid');
    expect(await code2Session(wechat, 'code-1')).toEqual(CODE_USED);
    expect(wechat.remembered).toBe(3);
  });
});
