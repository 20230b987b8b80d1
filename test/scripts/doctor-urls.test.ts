import { describe, expect, it } from 'vitest';
import { endpointUrls, maskUserinfo, withoutUserinfo } from '../../scripts/doctor-urls.ts';

describe('maskUserinfo', () => {
  it('masks the user and password of every URL in a text', () => {
    expect(
      maskUserinfo('Fetching https://user:password@host/a failed: see http://u@other:8080/b'),
    ).toBe('Fetching https://***@host/a failed: see http://***@other:8080/b');
  });

  it('masks up to the last @ of the authority, where the URL parser ends the userinfo', () => {
    // Prepare
    const text = 'https://user:pass@word@host/openid';

    // Act
    const masked = maskUserinfo(text);

    // Assess
    expect(new URL(text).host).toBe('host');
    expect(masked).toBe('https://***@host/openid');
  });

  it('masks a URL that does not parse too', () => {
    expect(maskUserinfo('https://user:secretpw@[bad')).toBe('https://***@[bad');
  });

  it('leaves a URL without credentials as it is, even with an @ after its host', () => {
    const text = 'https://host/a@b?c=d@e#f@g and mail@example.com';

    expect(maskUserinfo(text)).toBe(text);
  });
});

describe('withoutUserinfo', () => {
  it('drops the user and password and keeps the rest', () => {
    expect(withoutUserinfo(new URL('https://user:pw@host:8443/p/openid?q#h')).href).toBe(
      'https://host:8443/p/openid?q#h',
    );
  });

  it('answers the same URL when it has no credentials', () => {
    const url = new URL('https://host/openid');

    expect(withoutUserinfo(url)).toBe(url);
  });
});

describe('endpointUrls', () => {
  it.each([
    [
      'https://abc.execute-api.ap-east-1.amazonaws.com/openid',
      'https://abc.execute-api.ap-east-1.amazonaws.com',
    ],
    [
      'https://abc.execute-api.ap-east-1.amazonaws.com',
      'https://abc.execute-api.ap-east-1.amazonaws.com',
    ],
    ['https://login.example.com/', 'https://login.example.com'],
    ['https://login.example.com/openid/', 'https://login.example.com'],
    ['http://127.0.0.1:2020/v1/', 'http://127.0.0.1:2020/v1'],
    ['http://127.0.0.1:2020/v1/openid', 'http://127.0.0.1:2020/v1'],
  ])('reads %s as the login at {base}/openid, base %s', (given, base) => {
    // Prepare / Act
    const urls = endpointUrls(new URL(given));

    // Assess
    expect(urls).toEqual({ login: new URL(`${base}/openid`), base });
  });

  it('keeps the query of the URL given', () => {
    expect(endpointUrls(new URL('https://host/?stage=a')).login.href).toBe(
      'https://host/openid?stage=a',
    );
  });
});
