import { deleteMe } from './delete-me.ts';
import { discovery } from './discovery.ts';
import { jwks } from './jwks.ts';
import { login } from './login.ts';
import { me } from './me.ts';
import { openData } from './open-data.ts';
import { phone } from './phone.ts';
import { type Feature, isServed, type Route } from './route.ts';

/**
 * Every route the function serves, each described once in its own file. The handler, the
 * local server, the CDK API and the function's timeout all read this list.
 */
export const ROUTES: readonly Route[] = [login, discovery, jwks, me, phone, deleteMe, openData];

/** The routes served when these features are on; the others answer 404. */
export function servedRoutes(on: ReadonlySet<Feature>): readonly Route[] {
  return ROUTES.filter((route) => isServed(route, on));
}

export { deleteMe, discovery, jwks, login, me, openData, phone };
