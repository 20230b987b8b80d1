/**
 * Login requests (API Gateway v2 events) of every shape a client, a proxy or a confused API
 * Gateway could send: valid logins, every way to get a field wrong, bodies around the size
 * limit, and near-miss Referers. request-model.ts says what the contract answers to each.
 */
import fc from 'fast-check';
import { APP_ID, OTHER_APP_ID } from '../../harness/fixtures.ts';
import { CODE_CHARS, MAX_BODY_BYTES, type Registry, type RequestCase } from './request-model.ts';

const alnum = (min: number, max: number) =>
  fc.stringMatching(new RegExp(`^[A-Za-z0-9_-]{${min},${max}}$`));

/** Codes the contract accepts: realistic ones mostly, boundaries too. */
export const validCode = fc.oneof(
  { weight: 6, arbitrary: alnum(24, 40) },
  { weight: 2, arbitrary: alnum(1, 128) },
  { weight: 1, arbitrary: fc.constantFrom('a', '-', '_', '0'.repeat(128), `${'Zz-_'.repeat(32)}`) },
);

const outsideChar = fc
  .string({ unit: 'binary', minLength: 1, maxLength: 1 })
  .filter((c) => !/^[A-Za-z0-9_-]$/.test(c));

/** Strings the contract rejects as a code. */
const invalidCodeString = fc.oneof(
  fc.constantFrom('', ' ', '   ', '\t', '\n', '\u00a0', '\u3000', '\u200b'),
  alnum(129, 400),
  fc
    .tuple(alnum(0, 30), outsideChar, alnum(0, 30))
    .map(([before, bad, after]) => before + bad + after),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 60 }).filter((s) => !CODE_CHARS.test(s)),
  fc.constantFrom('abc def', 'abc+def/==', 'code%20x', '../../etc', '<script>', '"; DROP', 'é'),
);

/** JSON values of every type but string. */
const notAString = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
  fc.constantFrom(['abcdefgh'], { code: 'abcdefgh' }, 0, -1, 1e308),
);

const codeValue = fc.oneof(
  { weight: 14, arbitrary: validCode },
  { weight: 3, arbitrary: invalidCodeString },
  { weight: 2, arbitrary: notAString },
);

const appIdLike = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(APP_ID, OTHER_APP_ID) },
  { weight: 2, arbitrary: fc.stringMatching(/^wx[0-9a-f]{16}$/) },
);

const appidValue = fc.oneof(
  { weight: 5, arbitrary: appIdLike },
  {
    weight: 1,
    arbitrary: fc.constantFrom('', 'wx', 'WX4F4BC4DEC97D474B', `${APP_ID} `, 'wx4f4bc4dec97d474'),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 1, arbitrary: notAString },
);

const trickyKey = fc.oneof(
  fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    'toString',
    'hasOwnProperty',
    'valueOf',
    'appId',
    'AppID',
    'Code',
    'CODE',
    'js_code',
    'openid',
    'session_key',
    'isBase64Encoded',
    '',
  ),
  fc.string({ maxLength: 12 }).filter((key) => key !== 'code' && key !== 'appid'),
);

/** Values that hide a code or an appid where a careless parser would look. */
const trickyValue = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  validCode.map((code) => ({ code })),
  appIdLike.map((appid) => ({ appid })),
);

type Entry = readonly [string, unknown];

/** JSON text of an object with these entries in this order; `__proto__` stays a plain key. */
function objectText(entries: readonly Entry[], gap: string): string {
  const members = entries.map(([key, value]) => `${JSON.stringify(key)}:${gap}${stringify(value)}`);
  return `{${gap}${members.join(`,${gap}`)}${gap}}`;
}

/** Like JSON.stringify, but an object's own `__proto__` key is kept (and never a prototype). */
function stringify(value: unknown): string {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return JSON.stringify(value) ?? 'null';
  return objectText(Object.entries(value), '');
}

const padding = fc.oneof(
  { weight: 24, arbitrary: fc.constant(0) },
  { weight: 2, arbitrary: fc.integer({ min: 16_250, max: 16_450 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 2_000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 16_385, max: 120_000 }) },
);

/** A JSON object body: code (zero, one or two times), appid, extra keys, padding, any order. */
const objectBody = fc
  .record({
    codes: fc.oneof(
      { weight: 8, arbitrary: codeValue.map((v) => [v]) },
      { weight: 1, arbitrary: fc.constant([]) },
      { weight: 1, arbitrary: fc.tuple(codeValue, codeValue) },
    ),
    appid: fc.oneof(
      { weight: 3, arbitrary: fc.constant(undefined) },
      { weight: 2, arbitrary: appidValue },
    ),
    extra: fc.array(fc.tuple(trickyKey, trickyValue), { maxLength: 4 }),
    pad: padding,
    padChar: fc.constantFrom('x', 'é', '中', '😀'),
    gap: fc.constantFrom('', '', ' ', '\n', '\r\n\t'),
  })
  .chain(({ codes, appid, extra, pad, padChar, gap }) => {
    const entries: Entry[] = [
      ...extra,
      ...(appid === undefined ? [] : [['appid', appid] as const]),
      ...(pad > 0
        ? [['pad', padChar.repeat(Math.ceil(pad / Buffer.byteLength(padChar)))] as const]
        : []),
    ];
    // Several `code` entries keep their order (the last one wins in JSON).
    return fc
      .shuffledSubarray(entries, { minLength: entries.length, maxLength: entries.length })
      .chain((shuffled) =>
        fc
          .array(fc.nat(shuffled.length), { minLength: codes.length, maxLength: codes.length })
          .map((positions) => {
            const all: Entry[] = [...shuffled];
            positions
              .sort((a, b) => b - a)
              .forEach((at, i) => {
                all.splice(at, 0, ['code', codes[codes.length - 1 - i]]);
              });
            return objectText(all, gap);
          }),
      );
  });

const deepNesting = fc
  .tuple(
    fc.integer({ min: 1, max: 12_000 }),
    fc.constantFrom('array', 'object', 'beside', 'inside'),
    validCode,
  )
  .map(([depth, where, code]) => {
    const nest = '['.repeat(depth) + ']'.repeat(depth);
    if (where === 'array') return nest;
    if (where === 'object') return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    if (where === 'beside') return `{"code":"${code}","x":${nest}}`;
    return `{"code":${'['.repeat(depth)}"${code}"${']'.repeat(depth)}}`;
  });

const hugeString = fc
  .tuple(fc.integer({ min: 16_385, max: 300_000 }), fc.constantFrom('x', 'é', '{', ' '), validCode)
  .map(([size, char, code]) =>
    char === '{'
      ? JSON.stringify({ code, pad: 'y'.repeat(size) })
      : char.repeat(Math.ceil(size / Buffer.byteLength(char))),
  );

/** A login body of exactly the limit, or one byte either side of it, in bytes as received. */
const limitBody = fc
  .tuple(fc.constantFrom(-1, 0, 1), validCode, fc.constantFrom('x', 'é'))
  .map(([offset, code, char]) => {
    const prefix = `{"code":"${code}","pad":"`;
    const room = MAX_BODY_BYTES + offset - Buffer.byteLength(prefix) - 2;
    // A two-byte character cannot fill an odd gap: finish it with one ASCII byte.
    const wide = char === 'x' ? 0 : Math.floor(room / 2);
    return `${prefix}${char.repeat(wide)}${'x'.repeat(room - wide * Buffer.byteLength(char))}"}`;
  });

const bodyText = fc.oneof(
  { weight: 30, arbitrary: objectBody },
  { weight: 1, arbitrary: limitBody },
  { weight: 2, arbitrary: fc.json({ maxDepth: 4 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 300 }) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.uint8Array({ maxLength: 600 }), fc.constantFrom('utf8', 'latin1'))
      .map(([bytes, encoding]) => Buffer.from(bytes).toString(encoding as BufferEncoding)),
  },
  { weight: 1, arbitrary: deepNesting },
  { weight: 1, arbitrary: hugeString },
  {
    weight: 2,
    arbitrary: objectBody.chain((text) => fc.nat(text.length).map((cut) => text.slice(0, cut))),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      ' ',
      '\n',
      'null',
      '[]',
      '{}',
      '"code"',
      'true',
      '0',
      '{"code":null}',
      '[{"code":"abcdefgh"}]',
      '{"code":"abcdefgh"',
      "{'code':'abcdefgh'}",
      'code=abcdefgh',
      '\ufeff{"code":"abcdefgh"}',
    ),
  },
);

type Encoding = 'plain' | 'base64' | 'base64-wrapped' | 'flagged-but-plain' | 'unflagged';

const encoding = fc.constantFrom<Encoding>(
  'plain',
  'plain',
  'plain',
  'base64',
  'base64',
  'base64-wrapped',
  'flagged-but-plain',
  'unflagged',
);

const body = fc.oneof(
  { weight: 20, arbitrary: fc.tuple(bodyText, encoding) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(undefined, null, ''), encoding) },
);

const version = fc.oneof(
  fc.constantFrom('0', 'devtools'),
  fc.integer({ min: 1, max: 9999 }).map(String),
);

/** A Referer with wx.request's shape, or one that is close but not it, or noise. */
const refererValue = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .tuple(appIdLike, version)
      .map(([appId, v]) => `https://servicewechat.com/${appId}/${v}/page-frame.html`),
  },
  {
    weight: 3,
    arbitrary: fc
      .tuple(
        appIdLike,
        version,
        fc.constantFrom(
          (a: string, v: string) => `http://servicewechat.com/${a}/${v}/page-frame.html`,
          (a: string, v: string) =>
            `https://servicewechat.com.evil.example/${a}/${v}/page-frame.html`,
          (a: string, v: string) =>
            `https://evil.example/servicewechat.com/${a}/${v}/page-frame.html`,
          (a: string) => `https://servicewechat.com/${a}/page-frame.html`,
          (a: string, v: string) => `https://servicewechat.com/${a}/${v}/x/page-frame.html`,
          (a: string, v: string) => `https://servicewechat.com/${a}/${v}/page-frame.htm`,
          (a: string, v: string) => `https://servicewechat.com/${a}/${v}/page-frame.html?x=1`,
          (a: string, v: string) => ` https://servicewechat.com/${a}/${v}/page-frame.html`,
          (a: string, v: string) => `https://servicewechat.com/${a}/${v}/page-frame.html#`,
          (a: string, v: string) => `https://servicewechatXcom/${a}/${v}/page-frame.html`,
          (a: string, v: string) => `https://servicewechat.com/${a}%2F/${v}/page-frame.html`,
          (_a: string, v: string) => `https://servicewechat.com//${v}/page-frame.html`,
        ),
      )
      .map(([appId, v, mutate]) => mutate(appId, v)),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 80 }) },
  { weight: 1, arbitrary: fc.constantFrom('', 'about:blank', 'https://servicewechat.com/') },
);

const headers = fc.oneof(
  { weight: 1, arbitrary: fc.constant(undefined) },
  {
    weight: 12,
    arbitrary: fc
      .record({
        referer: fc.option(
          fc.tuple(
            fc.constantFrom('referer', 'referer', 'Referer', 'REFERER', 'rEfErEr'),
            refererValue,
          ),
          { nil: undefined, freq: 2 },
        ),
        contentType: fc.option(
          fc.tuple(
            fc.constantFrom('content-type', 'Content-Type', 'CONTENT-TYPE'),
            fc.constantFrom(
              'application/json',
              'application/json; charset=utf-8',
              'text/plain',
              'application/x-www-form-urlencoded',
              'application/octet-stream',
              'multipart/form-data; boundary=x',
              '',
              'garbage/',
            ),
          ),
          { nil: undefined },
        ),
        extra: fc.dictionary(
          fc.oneof(
            fc.constantFrom('referrer', 'x-forwarded-for', 'origin', 'user-agent', 'cookie'),
            fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/),
          ),
          fc.string({ maxLength: 40 }),
          { maxKeys: 4 },
        ),
      })
      .map(({ referer, contentType, extra }) => {
        const result: Record<string, string> = {};
        for (const [name, value] of Object.entries(extra)) {
          if (name.toLowerCase() !== 'referer') result[name] = value;
        }
        if (contentType) result[contentType[0]] = contentType[1];
        if (referer) result[referer[0]] = referer[1];
        return result;
      }),
  },
);

const requestId = fc.stringMatching(/^[A-Za-z0-9]{14}=$/);

const requestContext = fc.oneof(
  {
    weight: 8,
    arbitrary: requestId.map((id) => ({
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'api.example.com',
      domainPrefix: 'api',
      http: {
        method: 'POST',
        path: '/openid',
        protocol: 'HTTP/1.1',
        sourceIp: '1.2.3.4',
        userAgent: 'wechat',
      },
      requestId: id,
      routeKey: 'POST /openid',
      stage: '$default',
      time: '01/Jan/2026:00:00:00 +0000',
      timeEpoch: 1_767_225_600_000,
    })),
  },
  { weight: 1, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.constant({}) },
  { weight: 1, arbitrary: fc.constant({ http: { method: 'POST', path: '/openid' } }) },
  { weight: 1, arbitrary: requestId.map((id) => ({ requestId: id })) },
);

/** Any request a client, a proxy or a confused API Gateway could hand the function. */
export const requestCase: fc.Arbitrary<RequestCase> = fc
  .record({
    registry: fc.constantFrom<Registry>('single', 'multi'),
    body,
    headers,
    requestContext,
    context: fc.option(
      requestId.map((awsRequestId) => ({ awsRequestId })),
      { nil: undefined },
    ),
  })
  .map(({ registry, body: [text, how], headers, requestContext, context }) => {
    const event: Record<string, unknown> = {
      version: '2.0',
      routeKey: 'POST /openid',
      rawPath: '/openid',
      rawQueryString: '',
    };
    if (headers !== undefined) event.headers = headers;
    if (requestContext !== undefined) event.requestContext = requestContext;
    let decoded: string | undefined;
    if (text === undefined || text === null || text === '') {
      event.body = text;
      if (how !== 'unflagged') event.isBase64Encoded = how !== 'plain';
    } else if (how === 'base64' || how === 'base64-wrapped') {
      const bytes = Buffer.from(text, 'utf8');
      const encoded = bytes.toString('base64');
      event.body = how === 'base64' ? encoded : (encoded.match(/.{1,76}/g) ?? []).join('\r\n');
      event.isBase64Encoded = true;
      decoded = bytes.toString('utf8');
    } else {
      event.body = text;
      if (how !== 'unflagged') event.isBase64Encoded = how === 'flagged-but-plain';
    }
    return {
      registry,
      event,
      ...(context !== undefined && { context }),
      ...(decoded !== undefined && { decoded }),
    };
  })
  .filter(
    // A plain-text body flagged base64 must really not be base64 for the model above to hold.
    (c) =>
      !(
        c.event.isBase64Encoded === true &&
        c.decoded === undefined &&
        typeof c.event.body === 'string' &&
        /^[A-Za-z0-9+/=\s]*$/.test(c.event.body)
      ),
  );
