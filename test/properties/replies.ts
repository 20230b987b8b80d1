/**
 * Generated answers from WeChat's code2Session, and what the contract says the login endpoint
 * answers to each (docs/endpoint.md, "Requests and answers", "Failures" and "Retries, and why so few").
 */
import fc from 'fast-check';
import type { Reply } from '../../harness/fake-wechat.ts';
import { SESSION_KEY } from '../../harness/fixtures.ts';

/** The timeout the property's WeChat client runs with; a delay this long or longer is a timeout. */
export const WECHAT_TIMEOUT_MS = 500;
/** The client's cap on an answer (larger ones may be refused as unusable). */
const SMALL_BODY_BYTES = 60 * 1024;

export interface ReplyExpected {
  readonly outcomes: readonly {
    readonly status: number;
    readonly code?: string;
    readonly errcode?: number;
  }[];
  /** On success: exactly what the 200 body must hold. */
  readonly session?: { readonly openid: string; readonly unionid?: string };
  /** Calls to WeChat this answer allows (retries only for -1). */
  readonly maxCalls: number;
}

const upstreamError = { status: 502, code: 'upstream_error' };
const ERRCODES: Record<number, { status: number; code: string }> = {
  40029: { status: 400, code: 'invalid_code' },
  40163: { status: 400, code: 'code_used' },
  40226: { status: 403, code: 'user_blocked' },
  45011: { status: 429, code: 'rate_limited' },
  [-1]: { status: 503, code: 'upstream_busy' },
  40013: { status: 500, code: 'misconfigured' },
  40125: { status: 500, code: 'misconfigured' },
  41002: { status: 500, code: 'misconfigured' },
  41004: { status: 500, code: 'misconfigured' },
};

/** The contract's answer when the fake gives `reply` to every call. */
export function expectedForReply(
  reply: Reply,
  timeoutMs: number = WECHAT_TIMEOUT_MS,
): ReplyExpected {
  switch (reply.kind) {
    case 'hang':
      return { outcomes: [{ status: 504, code: 'upstream_timeout' }], maxCalls: 1 };
    case 'reset':
      // Reset after the request went out: outcome unknown, never retried.
      return { outcomes: [upstreamError], maxCalls: 1 };
    case 'delay':
      return reply.ms >= timeoutMs
        ? { outcomes: [{ status: 504, code: 'upstream_timeout' }], maxCalls: 1 }
        : expectedForReply(reply.reply, timeoutMs);
    case 'json':
    case 'raw':
      return expectedForBody(
        reply.status ?? 200,
        reply.kind === 'json' ? JSON.stringify(reply.body) : reply.body,
      );
  }
}

function expectedForBody(status: number, sent: string): ReplyExpected {
  // What arrives: the body as UTF-8 bytes (lone surrogates become U+FFFD); 204/304 carry none.
  const text = status === 204 || status === 304 ? '' : Buffer.from(sent, 'utf8').toString('utf8');
  const bytes = Buffer.byteLength(text, 'utf8');
  const session = interpret(text);
  let result: ReplyExpected;
  if (status !== 200) {
    // An HTTP error page; a 2xx other than 200 may be read or refused.
    const also = status >= 200 && status < 300 ? session.outcomes : [];
    result = { ...session, outcomes: [upstreamError, ...also] };
  } else result = session;
  if (bytes > SMALL_BODY_BYTES) return { ...result, outcomes: [...result.outcomes, upstreamError] };
  return result;
}

function interpret(text: string): ReplyExpected {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { outcomes: [upstreamError], maxCalls: 1 };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { outcomes: [upstreamError], maxCalls: 1 };
  const fields = value as Record<string, unknown>;
  const errcode = readErrcode(fields.errcode);
  if (errcode === 'unreadable') return { outcomes: [upstreamError], maxCalls: 1 };
  if (errcode !== 0) {
    const known = ERRCODES[errcode] ?? upstreamError;
    return { outcomes: [{ ...known, errcode }], maxCalls: errcode === -1 ? 3 : 1 };
  }
  const { openid, unionid } = fields;
  if (typeof openid !== 'string' || openid === '')
    return { outcomes: [upstreamError], maxCalls: 1 };
  return {
    outcomes: [{ status: 200 }],
    session: typeof unionid === 'string' && unionid !== '' ? { openid, unionid } : { openid },
    maxCalls: 1,
  };
}

/** Absent, null or 0 is success; an integer or a numeric string is an errcode; else unreadable. */
function readErrcode(value: unknown): number | 'unreadable' {
  if (value === undefined || value === null) return 0;
  if (typeof value === 'number') return Number.isInteger(value) ? value + 0 : 'unreadable';
  if (typeof value === 'string' && /^\s*-?\d{1,6}\s*$/.test(value)) return Number(value) + 0;
  return 'unreadable';
}

// ---------------------------------------------------------------------------------------------
// Generators

const INTERESTING = [
  0, -1, 40029, 40163, 40226, 45011, 40013, 40125, 41002, 41004, 1, -2, 40001, 45009, 99999,
];

const errcodeValue = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...INTERESTING) },
  { weight: 3, arbitrary: fc.constantFrom(...INTERESTING).map(String) },
  { weight: 1, arbitrary: fc.constantFrom(...INTERESTING).map((n) => ` ${n}\t`) },
  { weight: 1, arbitrary: fc.integer({ min: -100_000, max: 100_000 }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom<unknown>(
      true,
      false,
      null,
      '',
      'abc',
      '4OO29',
      '40029abc',
      '+40029',
      '0x9c5d',
      '40029.0',
      '1e3',
      'NaN',
      [],
      {},
      [40029],
      { code: 40029 },
      1.5,
      -0.5,
      1e21,
    ),
  },
  { weight: 1, arbitrary: fc.double() },
);

/** Strings that look like openids; long enough that the log check can tell them from chance. */
const idString = (prefix: string) =>
  fc.stringMatching(/^[A-Za-z0-9_-]{27}$/).map((rest) => `${prefix}${rest}`);

const openidValue = fc.oneof(
  { weight: 8, arbitrary: idString('o') },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom<unknown>('', 0, 12345, null, true, [], {}, ['o123'], { id: 'o1' }),
  },
);

const unionidValue = fc.oneof(
  { weight: 4, arbitrary: idString('u') },
  { weight: 1, arbitrary: fc.constantFrom<unknown>('', 0, null, false, {}, []) },
);

const sessionKey = fc.oneof(
  fc.constant(SESSION_KEY),
  fc.stringMatching(/^[A-Za-z0-9+/]{22}==$/),
  fc.constantFrom<unknown>(12345, null),
);

const extraKeys = fc.dictionary(
  fc.oneof(
    fc.constantFrom('__proto__', 'constructor', 'errmsg', 'expires_in', 'rid'),
    fc.string({ maxLength: 8 }),
  ),
  fc.jsonValue({ maxDepth: 2 }),
  { maxKeys: 3 },
);

/** code2Session-shaped objects: success, errors, and every field of the wrong type. */
const answerObject = fc
  .record(
    {
      openid: openidValue,
      session_key: sessionKey,
      unionid: unionidValue,
      errcode: errcodeValue,
      errmsg: fc.oneof(
        fc.constantFrom('ok', 'invalid code', 'system error'),
        fc.string({ maxLength: 20 }),
      ),
    },
    { requiredKeys: [] },
  )
  .chain((fields) =>
    extraKeys.map((extra) => {
      const result: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(extra)) {
        if (!Object.hasOwn(fields, key)) result[key] = value;
      }
      return { ...result, ...fields };
    }),
  );

const success = fc
  .record({
    openid: idString('o'),
    unionid: fc.option(idString('u'), { nil: undefined }),
    session_key: sessionKey,
  })
  .map((s) => (s.unionid === undefined ? { openid: s.openid, session_key: s.session_key } : s));

const status = fc.oneof(
  { weight: 12, arbitrary: fc.constant(200) },
  { weight: 2, arbitrary: fc.integer({ min: 201, max: 599 }) },
  { weight: 1, arbitrary: fc.constantFrom(204, 301, 304, 400, 403, 404, 429, 500, 502, 503, 504) },
);

const contentType = fc.constantFrom(
  'text/plain',
  'text/plain',
  'application/json',
  'application/json; charset=utf-8',
  'text/html; charset=utf-8',
  'application/octet-stream',
  'application/problem+json',
  'image/png',
);

/** A JSON text with the errcode written in a form JSON.stringify never produces. */
const oddNumberText = fc
  .tuple(
    fc.constantFrom('40029.0', '4.0029e4', '-1e0', '-1.0', '0.0', '0e5', '40163E0', '-0'),
    idString('o'),
  )
  .map(([n, openid]) => `{"errcode":${n},"openid":"${openid}"}`);

const rawBody = fc.oneof(
  {
    weight: 3,
    arbitrary: answerObject.chain((o) => {
      const text = JSON.stringify(o);
      return fc.nat(Math.max(0, text.length - 1)).map((cut) => text.slice(0, cut));
    }),
  },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
  {
    weight: 1,
    arbitrary: fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b).toString('latin1')),
  },
  { weight: 2, arbitrary: oddNumberText },
  { weight: 1, arbitrary: fc.json({ maxDepth: 3 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '',
      ' ',
      '<html><body>502 Bad Gateway</body></html>',
      '{"errcode":40029,"errmsg":"invalid code"',
      'null',
      '[]',
      '"ok"',
      '\ufeff{"openid":"oBOMprefixed0000000000000000"}',
      '{"errcode":-1}{"errcode":0}',
    ),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 1_000, max: 200_000 }), success)
      .map(([pad, s]) => JSON.stringify({ ...s, pad: 'p'.repeat(pad) })),
  },
  { weight: 1, arbitrary: fc.integer({ min: 65_537, max: 300_000 }).map((n) => 'x'.repeat(n)) },
);

const plain = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .tuple(
        fc.oneof({ weight: 3, arbitrary: answerObject }, { weight: 2, arbitrary: success }),
        status,
        contentType,
      )
      .map(([body, s, ct]): Reply => ({ kind: 'json', body, status: s, contentType: ct })),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.jsonValue({ maxDepth: 3 }), status, contentType)
      .map(([body, s, ct]): Reply => ({ kind: 'json', body, status: s, contentType: ct })),
  },
  {
    weight: 4,
    arbitrary: fc
      .tuple(rawBody, status, contentType)
      .map(([body, s, ct]): Reply => ({ kind: 'raw', body, status: s, contentType: ct })),
  },
);

/**
 * Any answer WeChat (or a proxy in front of it) could give in time. Answers after the timeout
 * are `lateReply`, run apart with a short timeout since each one costs a whole timeout.
 */
export const wechatReply: fc.Arbitrary<Reply> = fc.oneof(
  { weight: 240, arbitrary: plain },
  { weight: 10, arbitrary: fc.constant<Reply>({ kind: 'reset' }) },
  {
    weight: 15,
    arbitrary: fc
      .tuple(fc.integer({ min: 1, max: 20 }), plain)
      .map(([ms, then]): Reply => ({ kind: 'delay', ms, reply: then })),
  },
);

/** An answer that arrives only after the client's timeout (`timeoutMs`). */
export const lateReply = (timeoutMs: number): fc.Arbitrary<Reply> =>
  fc
    .tuple(fc.integer({ min: timeoutMs + 50, max: timeoutMs + 150 }), plain)
    .map(([ms, then]): Reply => ({ kind: 'delay', ms, reply: then }));

/** The session_key in a reply, when it is a string worth looking for in the output. */
export function sessionKeyOf(reply: Reply): string | undefined {
  if (reply.kind === 'delay') return sessionKeyOf(reply.reply);
  if (reply.kind === 'json' && typeof reply.body === 'object' && reply.body !== null) {
    const key = (reply.body as Record<string, unknown>).session_key;
    return typeof key === 'string' ? key : undefined;
  }
  if (reply.kind === 'raw') return /"session_key":"([^"]+)"/.exec(reply.body)?.[1];
  return undefined;
}

/** The openid a reply carries, when it is a string worth looking for in the logs. */
export function openidOf(reply: Reply): string | undefined {
  if (reply.kind === 'delay') return openidOf(reply.reply);
  if (reply.kind === 'json' && typeof reply.body === 'object' && reply.body !== null) {
    const openid = (reply.body as Record<string, unknown>).openid;
    return typeof openid === 'string' ? openid : undefined;
  }
  if (reply.kind === 'raw') return /"openid":"([^"]+)"/.exec(reply.body)?.[1];
  return undefined;
}
