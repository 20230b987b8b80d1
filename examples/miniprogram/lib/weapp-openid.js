// weapp-openid-client 0.1.0: wx.login once, keep the session, sign every wx.request.
"use strict";
var __defProp = Object.defineProperty;
var __getOwnPropDesc = Object.getOwnPropertyDescriptor;
var __getOwnPropNames = Object.getOwnPropertyNames;
var __hasOwnProp = Object.prototype.hasOwnProperty;
var __export = (target, all) => {
  for (var name in all)
    __defProp(target, name, { get: all[name], enumerable: true });
};
var __copyProps = (to, from, except, desc) => {
  if (from && typeof from === "object" || typeof from === "function") {
    for (let key of __getOwnPropNames(from))
      if (!__hasOwnProp.call(to, key) && key !== except)
        __defProp(to, key, { get: () => from[key], enumerable: !(desc = __getOwnPropDesc(from, key)) || desc.enumerable });
  }
  return to;
};
var __toCommonJS = (mod) => __copyProps(__defProp({}, "__esModule", { value: true }), mod);

// client/src/index.ts
var index_exports = {};
__export(index_exports, {
  createClient: () => createClient
});
module.exports = __toCommonJS(index_exports);

// client/src/json.ts
function asObject(value) {
  let parsed = value;
  if (typeof value === "string") {
    try {
      parsed = JSON.parse(value);
    } catch (e) {
      return {};
    }
  }
  return parsed !== null && typeof parsed === "object" && !Array.isArray(parsed) ? parsed : {};
}
function text(value) {
  return typeof value === "string" && value !== "" ? value : void 0;
}
function texts(source, keys) {
  const out = {};
  for (const key of keys) {
    const value = text(source[key]);
    if (value) out[key] = value;
  }
  return out;
}

// client/src/problem.ts
function clientError(code, status, detail, extra = {}) {
  const error = new Error(detail);
  error.name = "WeappOpenidError";
  error.code = code;
  error.status = status;
  error.detail = detail;
  if (extra.requestId !== void 0) error.requestId = extra.requestId;
  if (extra.errcode !== void 0) error.errcode = extra.errcode;
  if (extra.retryAfter !== void 0) error.retryAfter = extra.retryAfter;
  return error;
}
function problemError(response, fallbackCode = "unexpected_response") {
  var _a, _b, _c;
  const problem = asObject(response.data);
  const code = text(problem.code);
  const requestId = (_a = text(problem.requestId)) != null ? _a : response.header["apigw-requestid"];
  const retryAfter = Number(response.header["retry-after"]);
  const extra = {
    requestId,
    errcode: typeof problem.errcode === "number" ? problem.errcode : void 0,
    retryAfter: Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter : void 0
  };
  if (code) {
    const detail = (_c = (_b = text(problem.detail)) != null ? _b : text(problem.title)) != null ? _c : `The server answered ${code}.`;
    return clientError(code, response.statusCode, detail, extra);
  }
  return clientError(
    fallbackCode,
    response.statusCode,
    `The server answered HTTP ${response.statusCode} without a problem description${text(problem.message) ? `: ${text(problem.message)}` : ""}.`,
    extra
  );
}

// client/src/session-store.ts
var VERSION = 2;
var OPTIONAL_FIELDS = ["unionid", "phoneNumber", "countryCode"];
function sessionStore(wx2, key, baseUrl) {
  return {
    read() {
      let raw;
      try {
        raw = wx2.getStorageSync(key);
      } catch (e) {
        return void 0;
      }
      return parse(raw, baseUrl);
    },
    write(session) {
      const stored = { version: VERSION, baseUrl, ...session };
      try {
        wx2.setStorageSync(key, stored);
      } catch (e) {
      }
    },
    forget() {
      try {
        wx2.removeStorageSync(key);
      } catch (e) {
      }
    }
  };
}
function parse(raw, baseUrl) {
  const value = asObject(raw);
  const openid = text(value.openid);
  const token = text(value.token);
  const { expiresAt } = value;
  if (value.version !== VERSION || value.baseUrl !== baseUrl || !openid || !token) return void 0;
  if (typeof expiresAt !== "number" || !Number.isFinite(expiresAt)) return void 0;
  for (const field of OPTIONAL_FIELDS) {
    if (value[field] !== void 0 && typeof value[field] !== "string") return void 0;
  }
  return { openid, token, expiresAt, ...texts(value, OPTIONAL_FIELDS) };
}

// client/src/transport.ts
function wxLogin(wx2) {
  return new Promise((resolve, reject) => {
    wx2.login({
      success: (result) => {
        if (typeof result.code === "string" && result.code !== "") return resolve(result.code);
        reject(clientError("wx_login_failed", 0, "wx.login returned no code."));
      },
      fail: (error) => reject(clientError("wx_login_failed", 0, `wx.login failed: ${describe(error)}.`))
    });
  });
}
function wxCheckSession(wx2) {
  return new Promise((resolve) => {
    wx2.checkSession({ success: () => resolve(true), fail: () => resolve(false) });
  });
}
function wxRequest(wx2, options) {
  return new Promise((resolve, reject) => {
    wx2.request({
      ...options,
      success: (result) => {
        var _a;
        const header = lowerCaseKeys(result.header);
        const parse2 = ((_a = options.dataType) != null ? _a : "json") === "json" && options.responseType !== "arraybuffer";
        resolve({
          statusCode: result.statusCode,
          header,
          data: parse2 ? parseJson(result.data, header["content-type"]) : result.data
        });
      },
      fail: (error) => reject(
        clientError(
          "network_error",
          0,
          `The request did not reach the server or its answer was lost: ${describe(error)}.`
        )
      )
    });
  });
}
function lowerCaseKeys(header) {
  const out = {};
  if (header === null || typeof header !== "object") return out;
  for (const key of Object.keys(header)) {
    const value = header[key];
    if (value !== void 0 && value !== null) out[key.toLowerCase()] = String(value);
  }
  return out;
}
function parseJson(data, contentType) {
  if (typeof data !== "string" || !/[/+]json\b/i.test(contentType != null ? contentType : "")) return data;
  try {
    return JSON.parse(data);
  } catch (e) {
    return data;
  }
}
function describe(error) {
  const message = error == null ? void 0 : error.errMsg;
  return typeof message === "string" && message !== "" ? message : "no reason given";
}

// client/src/login.ts
var FRESH_CODE_HELPS = ["code_used", "invalid_code", "upstream_timeout"];
async function exchangeCode(wx2, baseUrl, nextCode) {
  for (let attempt = 1; ; attempt++) {
    const sentAt = Date.now();
    const response = await wxRequest(wx2, {
      url: `${baseUrl}/openid`,
      method: "POST",
      header: { "content-type": "application/json" },
      data: { code: await nextCode() }
    });
    if (response.statusCode === 200) return toSession(response.data, sentAt);
    const error = problemError(response);
    if (attempt > 1 || FRESH_CODE_HELPS.indexOf(error.code) < 0) throw error;
  }
}
function toSession(data, sentAt) {
  const body = asObject(data);
  const openid = text(body.openid);
  const token = text(body.token);
  const { expiresIn } = body;
  if (openid && !token) {
    throw clientError(
      "sessions_off",
      200,
      "The backend returned the openid but no session token: sessions are off on this backend."
    );
  }
  if (!openid || !token || typeof expiresIn !== "number" || !(expiresIn > 0)) {
    throw clientError("unexpected_response", 200, "The login answer is not a session.");
  }
  const expiresAt = Math.floor(sentAt / 1e3) + expiresIn;
  return { openid, token, expiresAt, ...texts(body, OPTIONAL_FIELDS) };
}

// client/src/open-data.ts
async function fetchOpenData(fetch) {
  var _a, _b;
  let result;
  try {
    result = await fetch();
  } catch (error) {
    const { errMsg, message } = asObject(typeof error === "string" ? { errMsg: error } : error);
    const detail = (_b = (_a = text(errMsg)) != null ? _a : text(message)) != null ? _b : "fetch failed and gave no reason.";
    throw clientError("open_data_fetch_failed", 0, detail);
  }
  const { encryptedData, iv } = asObject(result);
  if (!text(encryptedData) || !text(iv)) {
    throw clientError(
      "open_data_fetch_failed",
      0,
      "fetch resolved no encryptedData and iv: give openData a function that returns the promise of wx.getWeRunData() or the like."
    );
  }
  return { encryptedData, iv };
}

// client/src/phone.ts
var QUOTA_USED_UP = 1400001;
function phoneCode(detail) {
  var _a;
  if (typeof detail === "string") {
    if (detail !== "") return detail;
    throw clientError("phone_code_missing", 0, "bindPhone was given an empty code.");
  }
  const { code, errMsg, errno } = asObject(detail);
  const said = (_a = text(errMsg)) != null ? _a : "no errMsg";
  if (errno === QUOTA_USED_UP) {
    throw clientError(
      "phone_quota_exhausted",
      0,
      `This mini program's phone number verifications are used up (errno ${QUOTA_USED_UP}): its operator must add more in the mini program admin console before a number can be verified.`
    );
  }
  if (/deny/i.test(said)) {
    throw clientError("phone_denied", 0, `The user declined to share a phone number (${said}).`);
  }
  const found = text(code);
  if (found) return found;
  throw clientError(
    "phone_code_missing",
    0,
    `The getPhoneNumber button gave no code (${said}). WeChat gives one from base library 2.21.2 on: set the mini program's minimum base library version to 2.21.2 or later in the admin console.`
  );
}
function phoneSession(data, sentAt, previous) {
  const session = toSession(data, sentAt);
  const { phoneNumber, countryCode } = session;
  if (!phoneNumber || !countryCode) {
    throw clientError("unexpected_response", 200, "The /phone answer has no phone number.");
  }
  return previous.unionid && previous.openid === session.openid ? { ...session, unionid: previous.unionid, phoneNumber, countryCode } : { ...session, phoneNumber, countryCode };
}

// client/src/client.ts
var RENEW_BEFORE_EXPIRY_SECONDS = 60;
function buildClient(options) {
  var _a, _b, _c;
  const wx2 = (_a = options.wx) != null ? _a : globalWx();
  const baseUrl = normaliseBaseUrl(options.baseUrl);
  if (/\/openid$/.test(baseUrl)) {
    throw clientError(
      "invalid_base_url",
      0,
      `createClient: give baseUrl without /openid, which the client adds: ${baseUrl.slice(0, -"/openid".length)}, the stack's BaseUrl output (not EndpointUrl).`
    );
  }
  const trusted = [baseUrl, ...((_b = options.trustedUrls) != null ? _b : []).map(normaliseBaseUrl)];
  const store = sessionStore(wx2, (_c = options.storageKey) != null ? _c : "weapp-openid.session", baseUrl);
  let current;
  let loaded = false;
  let inFlight;
  let generation = 0;
  let wxLogins = 0;
  let exchanged = 0;
  const valid = () => {
    if (!loaded) {
      current = store.read();
      loaded = true;
    }
    const now = Date.now() / 1e3;
    return current && current.expiresAt - now > RENEW_BEFORE_EXPIRY_SECONDS ? current : void 0;
  };
  const adopt = (session) => {
    current = session;
    loaded = true;
    store.write(session);
  };
  const freshLogin = () => {
    if (inFlight) return inFlight;
    const started = generation;
    let login2 = 0;
    const nextCode = () => {
      login2 = ++wxLogins;
      return wxLogin(wx2);
    };
    const done = () => {
      if (inFlight === flight) inFlight = void 0;
    };
    const flight = exchangeCode(wx2, baseUrl, nextCode).then(
      (session) => {
        done();
        exchanged = login2;
        if (started === generation) adopt(session);
        return session;
      },
      (error) => {
        done();
        throw error;
      }
    );
    inFlight = flight;
    return flight;
  };
  const login = () => {
    const session = valid();
    return session ? Promise.resolve(session) : freshLogin();
  };
  const renew = (refused) => {
    const session = valid();
    if (session && session.token !== refused) return Promise.resolve(session);
    forget(refused);
    return freshLogin();
  };
  const forget = (token) => {
    if ((current == null ? void 0 : current.token) !== token) return;
    current = void 0;
    store.forget();
  };
  const send = (call, token) => wxRequest(wx2, { ...call, header: withAuthorization(call.header, token) });
  const signed = async (call) => {
    const first = await login();
    const response = await send(call, first.token);
    if (response.statusCode !== 401) return [response, first];
    const second = await renew(first.token);
    const retried = await send(call, second.token);
    if (retried.statusCode !== 401) return [retried, second];
    forget(second.token);
    throw problemError(retried, "unauthorized");
  };
  const withCurrentKey = async () => {
    const session = valid();
    if (!session || exchanged !== wxLogins || !await wxCheckSession(wx2)) return freshLogin();
    return session;
  };
  const logout = () => {
    generation++;
    inFlight = void 0;
    current = void 0;
    loaded = true;
    store.forget();
  };
  return {
    login,
    async request(options2) {
      const copy = { ...options2 };
      const url = resolveUrl(baseUrl, copy.url);
      const request = { ...copy, url, header: copyHeader(copy.header) };
      if (!trusted.some((base) => isUnder(url, base))) {
        throw clientError(
          "untrusted_url",
          0,
          `request() sends the session token only to ${baseUrl} and the trustedUrls given to createClient; ${hostOf(url)} is neither. Add it to trustedUrls if it is your API, or call wx.request for it.`
        );
      }
      const [response] = await signed(request);
      return response;
    },
    logout,
    async bindPhone(detail) {
      const code = phoneCode(detail);
      const started = generation;
      const sentAt = Date.now();
      const [response, used] = await signed(postJson(`${baseUrl}/phone`, { code }));
      if (response.statusCode !== 200) throw problemError(response);
      const session = phoneSession(response.data, sentAt, used);
      if (started === generation) adopt(session);
      return { phoneNumber: session.phoneNumber, countryCode: session.countryCode };
    },
    async deleteAccount() {
      const [response] = await signed({ url: `${baseUrl}/me`, method: "DELETE" });
      if (response.statusCode < 200 || response.statusCode > 299) throw problemError(response);
      logout();
    },
    async openData(fetch) {
      let session = await withCurrentKey();
      for (let attempt = 1; ; attempt++) {
        const sealed = await fetchOpenData(fetch);
        const response = await send(postJson(`${baseUrl}/open-data`, sealed), session.token);
        if (response.statusCode === 200) return decrypted(response);
        const refused = response.statusCode === 401;
        const error = problemError(response, refused ? "unauthorized" : void 0);
        if (!refused && error.code !== "session_key_stale") throw error;
        if (refused) forget(session.token);
        if (attempt > 1) throw error;
        session = await freshLogin();
      }
    }
  };
}
function postJson(url, data) {
  return { url, method: "POST", header: { "content-type": "application/json" }, data };
}
function decrypted(response) {
  const { data } = asObject(response.data);
  if (data === null || typeof data !== "object") {
    throw clientError("unexpected_response", 200, "The /open-data answer has no data.");
  }
  return data;
}
function globalWx() {
  if (typeof wx === "undefined") {
    throw new TypeError("createClient: there is no global wx; pass options.wx.");
  }
  return wx;
}
function normaliseBaseUrl(baseUrl) {
  if (typeof baseUrl !== "string" || !/^https?:\/\/[^/]/i.test(baseUrl)) {
    throw new TypeError(
      "createClient: baseUrl and trustedUrls must be http(s) URLs, e.g. https://api.example.com"
    );
  }
  return baseUrl.replace(/\/+$/, "");
}
function isUnder(url, base) {
  const lower = url.toLowerCase();
  const prefix = base.toLowerCase();
  if (!lower.startsWith(prefix)) return false;
  const rest = lower.slice(prefix.length);
  return rest === "" || /^[/?#]/.test(rest);
}
function hostOf(url) {
  var _a, _b;
  return (_b = (_a = /^[a-z]+:\/\/[^/?#]*/i.exec(url)) == null ? void 0 : _a[0]) != null ? _b : "that URL";
}
function resolveUrl(baseUrl, url) {
  if (/^https?:\/\//i.test(url)) return url;
  return `${baseUrl}/${url.replace(/^\/+/, "")}`;
}
function copyHeader(header) {
  return header !== null && typeof header === "object" ? { ...header } : void 0;
}
function withAuthorization(header, token) {
  const out = {};
  if (header !== null && typeof header === "object") {
    for (const key of Object.keys(header)) {
      if (key.toLowerCase() !== "authorization")
        out[key] = header[key];
    }
  }
  out.Authorization = `Bearer ${token}`;
  return out;
}

// client/src/index.ts
function createClient(options) {
  return buildClient(options);
}
