import type { Sealed } from '../domain/open-data.ts';
import type { BoundPhone, UserRecord, UserStore } from '../domain/users.ts';

/**
 * The sandbox's user records, in memory: one per (AppID, openid), as the table keeps them,
 * so a number bound in the devtools is still there after logging out and in.
 */
export function createMemoryUsers(): UserStore & { readonly size: number } {
  const records = new Map<string, UserRecord>();
  const sealed = new Map<string, Sealed>();
  const key = (appId: string, openid: string) => `${appId}#${openid}`;
  return {
    get size() {
      return records.size;
    },
    recordLogin(appId, user, nowSeconds, sessionKey) {
      const id = key(appId, user.openid);
      if (sessionKey) sealed.set(id, sessionKey);
      else if (sessionKey === null) sealed.delete(id);
      const kept = records.get(id);
      const unionid = user.unionid ?? kept?.unionid;
      const record: UserRecord = {
        createdAt: kept?.createdAt ?? nowSeconds,
        lastLoginAt: nowSeconds,
        ...(unionid !== undefined && { unionid }),
        ...(kept?.phone && { phone: kept.phone }),
      };
      records.set(id, record);
      return Promise.resolve(record);
    },
    bindPhone(appId, openid, phone: BoundPhone) {
      const id = key(appId, openid);
      const kept = records.get(id);
      records.set(id, {
        createdAt: kept?.createdAt ?? phone.verifiedAt,
        lastLoginAt: kept?.lastLoginAt ?? phone.verifiedAt,
        ...(kept?.unionid !== undefined && { unionid: kept.unionid }),
        phone,
      });
      return Promise.resolve();
    },
    erase(appId, openid) {
      records.delete(key(appId, openid));
      sealed.delete(key(appId, openid));
      return Promise.resolve();
    },
    sealedSessionKey: (appId, openid) => Promise.resolve(sealed.get(key(appId, openid))),
  };
}
