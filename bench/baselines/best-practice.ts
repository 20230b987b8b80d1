/**
 * Baseline 2, "the best-practice way": the secret through Powertools Parameters (cached for
 * 300 s, parsed as JSON), structured logs through Powertools Logger, fetch for WeChat, all
 * bundled with esbuild as minified ESM with the SDK inside. Only measured, never deployed.
 */
import { loginHandler } from './exchange.ts';

export const handler = loginHandler('weapp-openid-best-practice');
