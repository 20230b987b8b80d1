import { describe, expect, it } from 'vitest';
import { type ClientError, createClient } from '../support/client.ts';
import { type StandIn, standInWx } from '../support/wx-runtime.ts';

/** What createClient threw, or undefined. */
function thrownBy(baseUrl: string, standIn: StandIn = standInWx()): ClientError | undefined {
  try {
    createClient({ baseUrl, wx: standIn.wx });
    return undefined;
  } catch (error) {
    return error as ClientError;
  }
}

describe('createClient()', () => {
  it.each([
    'https://abc123.execute-api.ap-east-1.amazonaws.com/openid',
    'https://login.example.com/openid/',
    'http://localhost:2020/openid//',
  ])(
    'refuses the endpoint URL %s as baseUrl, naming the BaseUrl output, before any request',
    (baseUrl) => {
      // Prepare
      const standIn = standInWx();

      // Act
      const error = thrownBy(baseUrl, standIn);

      // Assess: the client would post to …/openid/openid and meet a 404 only at the first login.
      expect(error).toBeInstanceOf(Error);
      expect(error).toMatchObject({
        name: 'WeappOpenidError',
        code: 'invalid_base_url',
        status: 0,
      });
      expect(error?.detail).toContain('BaseUrl');
      expect(error?.detail).toContain('without /openid');
      expect(error?.message).toBe(error?.detail);
      expect(standIn.sent).toHaveLength(0);
      expect(standIn.issuedCodes).toHaveLength(0);
    },
  );

  it.each([
    'https://login.example.com',
    'https://login.example.com/',
    'https://openid.example.com',
    'https://api.example.com/openid-prod',
    'https://api.example.com/openid/v2',
  ])('takes %s as baseUrl', (baseUrl) => {
    expect(thrownBy(baseUrl)).toBeUndefined();
  });
});
