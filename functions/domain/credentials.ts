import { type AppCredentials, selectApp } from './apps.ts';
import type { CredentialSource } from './ports.ts';
import { Problem } from './problem.ts';

/**
 * Runs a WeChat call with the requested app's credentials. When WeChat says the
 * AppID/AppSecret is wrong, the secret is read again at once (the operator may just have
 * rotated it) and the call made once more, only if the credentials changed: the same ones
 * would fail the same way.
 */
export async function withApp<T>(
  credentials: CredentialSource,
  requestedAppId: string | undefined,
  call: (app: AppCredentials) => Promise<T>,
): Promise<{ readonly value: T; readonly app: AppCredentials }> {
  const app = selectApp(await credentials.get(), requestedAppId);
  try {
    return { value: await call(app), app };
  } catch (error) {
    if (!isRejectedCredentials(error)) throw error;
    const fresh = selectApp(await credentials.refresh(), requestedAppId);
    if (fresh.appSecret === app.appSecret) throw error;
    return { value: await call(fresh), app: fresh };
  }
}

/** WeChat answered that the AppID/AppSecret is wrong (as opposed to a malformed secret). */
function isRejectedCredentials(error: unknown): boolean {
  return (
    error instanceof Problem &&
    error.code === 'misconfigured' &&
    error.facts.subject === 'secret' &&
    error.errcode !== undefined &&
    error.errcode !== 40243
  );
}
