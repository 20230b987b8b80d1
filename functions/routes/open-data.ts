import { KMS, USERS } from '../commons/budgets.ts';
import { identityFromClaims } from '../domain/identity.ts';
import type { OpenDataRequest } from '../domain/open-data.ts';
import { Problem } from '../domain/problem.ts';
import { field, invalid, jsonBody } from './request.ts';
import { NO_STORE, type Route } from './route.ts';

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * `POST /open-data`: data from wx.getWeRunData, wx.getGroupEnterInfo or wx.getChatToolInfo,
 * decrypted with the session_key kept from the caller's last login.
 */
export const openData: Route<OpenDataRequest> = {
  name: 'openData',
  method: 'POST',
  path: '/open-data',
  access: 'token',
  needs: ['tokens', 'users', 'openData'],
  parse(event) {
    const caller = identityFromClaims(event.requestContext.authorizer?.jwt?.claims);
    const fields = jsonBody(event);
    const encryptedData = base64(field(fields, 'encryptedData'));
    if (encryptedData === undefined || encryptedData.length === 0) {
      throw invalid('encrypted_data_malformed');
    }
    const iv = base64(field(fields, 'iv'));
    if (iv?.length !== 16) throw invalid('iv_malformed');
    return { caller, encryptedData, iv };
  },
  async run(request, deps, trace) {
    if (!deps.readOpenData) throw new Problem('not_found');
    return { body: { data: await deps.readOpenData(request, trace) }, cacheControl: NO_STORE };
  },
  // The record's read, then at most one Decrypt of another environment's data key.
  budgetMs: () => USERS.totalMs + KMS.totalMs,
};

/** Strict base64, as WeChat hands it out: the bytes, or undefined for anything else. */
function base64(value: unknown): Buffer | undefined {
  if (typeof value !== 'string' || value.length % 4 !== 0 || !BASE64.test(value)) return undefined;
  return Buffer.from(value, 'base64');
}
