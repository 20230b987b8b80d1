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
async function exchangeCode(wx2, baseUrl) {
  for (let attempt = 1; ; attempt++) {
    const sentAt = Date.now();
    const response = await wxRequest(wx2, {
      url: `${baseUrl}/openid`,
      method: "POST",
      header: { "content-type": "application/json" },
      data: { code: await wxLogin(wx2) }
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
  const { expiresIn, unionid } = body;
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
  return typeof unionid === "string" && unionid !== "" ? { openid, unionid, token, expiresAt } : { openid, token, expiresAt };
}

// client/src/session-store.ts
var VERSION = 1;
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
  const { expiresAt, unionid } = value;
  if (value.version !== VERSION || value.baseUrl !== baseUrl || !openid || !token) return void 0;
  if (typeof expiresAt !== "number" || !Number.isFinite(expiresAt)) return void 0;
  if (unionid !== void 0 && typeof unionid !== "string") return void 0;
  return unionid === void 0 ? { openid, token, expiresAt } : { openid, unionid, token, expiresAt };
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
  const valid = () => {
    if (!loaded) {
      current = store.read();
      loaded = true;
    }
    const now = Date.now() / 1e3;
    return current && current.expiresAt - now > RENEW_BEFORE_EXPIRY_SECONDS ? current : void 0;
  };
  const freshLogin = () => {
    if (inFlight) return inFlight;
    const started = generation;
    const done = () => {
      if (inFlight === flight) inFlight = void 0;
    };
    const flight = exchangeCode(wx2, baseUrl).then(
      (session) => {
        done();
        if (started === generation) {
          current = session;
          store.write(session);
        }
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
      const first = await login();
      const response = await send(request, first.token);
      if (response.statusCode !== 401) return response;
      const second = await renew(first.token);
      const retried = await send(request, second.token);
      if (retried.statusCode !== 401) return retried;
      forget(second.token);
      throw problemError(retried, "unauthorized");
    },
    logout() {
      generation++;
      inFlight = void 0;
      current = void 0;
      loaded = true;
      store.forget();
    }
  };
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
