import { describe, expect, it } from 'vitest';
import { decryptOpenData } from '../../functions/domain/open-data.ts';

/** WeChat's published test vector for open data (its server-side decryption sample). */
const VECTOR = {
  appid: 'wx4f4bc4dec97d474b',
  sessionKey: 'tiihtNczf5v6AKRyjwEUhQ==',
  iv: 'r7BXXKkLb8qrSNn05n0qiA==',
  encryptedData:
    'CiyLU1Aw2KjvrjMdj8YKliAjtP4gsMZMQmRzooG2xrDcvSnxIMXFufNstNGTyaGS9uT5geRa0W4oTOb1WT7fJlAC+oNPdbB+3hVbJSRgv+4lGOETKUQz6OYStslQ142dNCuabNPGBzlooOmB231qMM85d2/fV6ChevvXvQP8Hkue1poOFtnEtpyxVLW1zAo6/1Xx1COxFvrc2d7UL/lmHInNlxuacJXwu0fjpXfz/YqYzBIBzD6WUfTIF9GRHpOn/Hz7saL8xz+W//FRAUid1OksQaQx4CMs8LOddcQhULW4ucetDf96JcR3g0gfRK4PC7E/r7Z6xNrXd2UIeorGj5Ef7b1pJAYB6Y5anaHqZ9J6nKEBvB4DnNLIVWSgARns/8wR2SiRS7MNACwTyrGvt9ts8p12PKFdlqYTopNHR1Vf7XjfhQlVsAJdNiKdYmYVoKlaRv85IfVunYzO0IKXsyl7JCUjCpoG20f0a04COwfneQAGGwd5oa+T8yO5hzuyDb/XcxxmK01EpqOyuxINew==',
  openId: 'oGZUI0egBJY1zhBYw2KhdUfwVJJE',
} as const;

const bytes = (base64: string) => Buffer.from(base64, 'base64');
const KEY = bytes(VECTOR.sessionKey);
const DATA = bytes(VECTOR.encryptedData);
const IV = bytes(VECTOR.iv);

describe('decryptOpenData', () => {
  it("decrypts WeChat's published test vector to a JSON object whose watermark names its AppID", () => {
    // Prepare
    const { sessionKey, encryptedData, iv } = VECTOR;

    // Act
    const data = decryptOpenData(bytes(sessionKey), bytes(encryptedData), bytes(iv));

    // Assess
    expect(data).toMatchObject({
      openId: VECTOR.openId,
      watermark: { appid: VECTOR.appid, timestamp: expect.any(Number) },
    });
  });

  it('answers undefined for the same data under another session_key', () => {
    // Prepare: one bit of the key changed.
    const key = bytes(VECTOR.sessionKey);
    key[0] = (key[0] ?? 0) ^ 1;

    // Act
    const data = decryptOpenData(key, bytes(VECTOR.encryptedData), bytes(VECTOR.iv));

    // Assess
    expect(data).toBeUndefined();
  });

  it.each([
    ['a session_key of 24 bytes', () => [Buffer.alloc(24, 1), DATA, IV] as const],
    ['an iv of 12 bytes', () => [KEY, DATA, Buffer.alloc(12, 1)] as const],
    ['data cut mid-block', () => [KEY, DATA.subarray(0, DATA.length - 5), IV] as const],
  ])('answers undefined, without throwing, for %s', (_what, input) => {
    // Prepare
    const [key, data, iv] = input();

    // Act
    const decrypted = decryptOpenData(key, data, iv);

    // Assess
    expect(decrypted).toBeUndefined();
  });
});
