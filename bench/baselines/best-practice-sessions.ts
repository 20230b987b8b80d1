/**
 * Baseline 3, "the best-practice way" with a session token: baseline 2 (Powertools Parameters
 * for the secret, Powertools Logger, fetch for WeChat), then a JWT signed by KMS with
 * `@aws-sdk/client-kms` (`kms-session.ts`). Bundled with esbuild like baseline 2; only measured.
 */
import { loginHandler } from './exchange.ts';
import { sessionStep } from './kms-session.ts';

export const handler = loginHandler('weapp-openid-best-practice-sessions', sessionStep);
