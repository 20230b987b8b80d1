/**
 * The compiled client, loaded the way the mini program runtime loads it: with CommonJS
 * `require`, from the file a user copies. Its types are the shipped `index.d.ts`.
 */
import { createRequire } from 'node:module';

type ClientModule = typeof import('../../client/miniprogram_dist/index.js');

export const COMPILED = new URL('../../client/miniprogram_dist/index.js', import.meta.url);

export const { createClient } = createRequire(import.meta.url)(COMPILED.pathname) as ClientModule;
export type {
  Client,
  ClientError,
  Session,
} from '../../client/miniprogram_dist/index.js';
