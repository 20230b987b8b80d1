/**
 * The compiled client, loaded the way the mini program runtime loads it: with CommonJS
 * `require`, from the file a user copies. Its types are the shipped `index.d.ts`.
 */
import { createRequire } from 'node:module';
import { expect } from 'vitest';

type ClientModule = typeof import('../../client/miniprogram_dist/index.js');

export const COMPILED = new URL('../../client/miniprogram_dist/index.js', import.meta.url);

export const { createClient } = createRequire(import.meta.url)(COMPILED.pathname) as ClientModule;
export type {
  Client,
  ClientError,
  Session,
} from '../../client/miniprogram_dist/index.js';

type ClientError = import('../../client/miniprogram_dist/index.js').ClientError;

/** The error a client call rejects with; fails the test if it resolves or throws a non-Error. */
export async function rejection(promise: Promise<unknown>): Promise<ClientError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Error);
  return error as ClientError;
}
