import { isObject } from '../commons/json.ts';
import { misconfigured, Problem } from './problem.ts';

/** One mini program's credentials. */
export interface AppCredentials {
  readonly appId: string;
  readonly appSecret: string;
}

/**
 * The mini programs this backend serves, read from the secret.
 * `any` accepts every AppID with one secret: that is the sandbox, where the devtools send
 * whatever AppID the developer has.
 */
export type AppRegistry =
  | { readonly kind: 'apps'; readonly apps: ReadonlyMap<string, string> }
  | { readonly kind: 'any'; readonly defaultAppId: string; readonly appSecret: string };

/** A mini program AppID as WeChat issues them: `wx` and 16 letters or digits. */
export const ISSUED_APP_ID = /^wx[0-9A-Za-z]{16}$/;

/**
 * Parses the secret's JSON value (docs/endpoint.md, "The secret"). Throws `misconfigured` with a reason
 * that names what is wrong and never quotes the value.
 */
export function parseSecretValue(raw: string): AppRegistry {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw misconfigured('the secret value is not JSON');
  }
  if (!isObject(value)) throw misconfigured('the secret value is not a JSON object');

  if ('apps' in value) {
    const apps = value.apps;
    if (!isObject(apps)) throw misconfigured('"apps" in the secret is not an object');
    const entries = Object.entries(apps);
    if (entries.length === 0) throw misconfigured('"apps" in the secret is empty');
    const map = new Map<string, string>();
    for (const [appId, appSecret] of entries) {
      map.set(checkAppId(appId, `a key of "apps"`), checkAppSecret(appSecret, `apps.${appId}`));
    }
    return { kind: 'apps', apps: map };
  }
  if ('appId' in value || 'appSecret' in value) {
    return singleAppRegistry(value.appId, value.appSecret);
  }
  throw misconfigured('the secret has neither "appId"/"appSecret" nor "apps"');
}

/** One app given directly (WECHAT_APP_ID/WECHAT_APP_SECRET), checked as the secret's would be. */
export function singleAppRegistry(appId: unknown, appSecret: unknown): AppRegistry {
  return {
    kind: 'apps',
    apps: new Map([[checkAppId(appId, '"appId"'), checkAppSecret(appSecret, '"appSecret"')]]),
  };
}

/**
 * Picks the app a request is for: the requested AppID when there is one, else the only
 * configured app. Throws `appid_mismatch` without any call to WeChat otherwise.
 */
export function selectApp(registry: AppRegistry, requested: string | undefined): AppCredentials {
  if (registry.kind === 'any') {
    return { appId: requested ?? registry.defaultAppId, appSecret: registry.appSecret };
  }
  const configured = [...registry.apps.keys()];
  if (requested === undefined) {
    const [only] = configured;
    if (configured.length === 1 && only !== undefined) {
      return { appId: only, appSecret: registry.apps.get(only) as string };
    }
    throw new Problem('appid_mismatch', { configuredAppIds: configured });
  }
  const appSecret = registry.apps.get(requested);
  if (appSecret === undefined) {
    throw new Problem('appid_mismatch', {
      configuredAppIds: configured,
      receivedAppId: requested,
    });
  }
  return { appId: requested, appSecret };
}

function checkAppId(appId: unknown, where: string): string {
  if (typeof appId !== 'string' || !ISSUED_APP_ID.test(appId)) {
    throw misconfigured(
      `${where} in the secret is not a mini program AppID (wx followed by 16 letters or digits)`,
    );
  }
  return appId;
}

function checkAppSecret(appSecret: unknown, where: string): string {
  if (typeof appSecret !== 'string' || appSecret.trim() === '') {
    throw misconfigured(`${where} in the secret is missing or empty`);
  }
  if (!/^[\x21-\x7e]+$/.test(appSecret)) {
    throw misconfigured(
      `${where} in the secret contains spaces or characters that an AppSecret never has`,
    );
  }
  return appSecret;
}
