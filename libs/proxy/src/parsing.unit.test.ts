import { describe, expect, it } from 'vitest';
import { inboundResponseHeaders, outboundRequestHeaders } from './headers.ts';
import { proxyToken } from './proxy-auth.ts';
import { hostHeader, parseAbsoluteTarget, parseConnectTarget } from './target.ts';

describe('request targets', () => {
  it.each([
    ['api.github.com:443', { host: 'api.github.com', port: 443 }],
    ['API.GitHub.com.:8443', { host: 'api.github.com', port: 8443 }],
    ['[::1]:443', { host: '::1', port: 443 }],
    ['127.0.0.1:80', { host: '127.0.0.1', port: 80 }],
  ])('CONNECT %s', (t, want) => expect(parseConnectTarget(t)).toEqual(want));

  it.each(['api.github.com', ':443', 'a.b:0', 'a.b:65536', 'a.b:4 43', 'u@a.b:443', 'http://a.b:443', 'a.b:443/x', '[::1:443', '::1:443', 'a..b:443', '-a.b:443', 'a_b%2e.c:443', ''])(
    'refuses CONNECT %j',
    (t) => expect(parseConnectTarget(t)).toBeNull(),
  );

  it('keeps the path and query exactly as sent', () => {
    expect(parseAbsoluteTarget('http://api.example.test/a/../b?x=%2F&y')).toEqual({
      scheme: 'http',
      host: 'api.example.test',
      port: 80,
      pathAndQuery: '/a/../b?x=%2F&y',
    });
    expect(parseAbsoluteTarget('HTTPS://Api.Example.Test:8443?q=1')).toEqual({ scheme: 'https', host: 'api.example.test', port: 8443, pathAndQuery: '/?q=1' });
    expect(parseAbsoluteTarget('http://[::1]:8080/')).toMatchObject({ host: '::1', port: 8080 });
  });

  it.each(['/relative', 'ftp://a.b/', 'http://user:pw@a.b/', 'http://a.b/#frag', 'http://a b/', 'http://a.b:0/', 'http:///x'])('refuses absolute target %j', (t) =>
    expect(parseAbsoluteTarget(t)).toBeNull(),
  );

  it('writes Host without the default port', () => {
    expect(hostHeader('api.github.com', 443, 'https')).toBe('api.github.com');
    expect(hostHeader('api.github.com', 8443, 'wss')).toBe('api.github.com:8443');
    expect(hostHeader('::1', 80, 'http')).toBe('[::1]');
  });
});

describe('Proxy-Authorization', () => {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  it('takes the token from Basic (password or user name) and Bearer', () => {
    expect(proxyToken(`Basic ${b64('tf:tfr_abc')}`)).toBe('tfr_abc');
    expect(proxyToken(`basic ${b64('tfr_abc:')}`)).toBe('tfr_abc');
    expect(proxyToken(`Basic ${b64('tf:tfr%5Fabc')}`)).toBe('tfr_abc');
    expect(proxyToken('Bearer tfr_abc')).toBe('tfr_abc');
  });
  it.each([undefined, '', 'Basic', 'Basic !!!', 'Digest x', 'Bearer  ', `Basic ${b64(':')}`, ['Bearer a', 'Bearer b']])('refuses %j', (h) =>
    expect(proxyToken(h as string | undefined)).toBeNull(),
  );
});

describe('headers', () => {
  it('drops hop-by-hop and proxy headers, those named in Connection, and the injected credential', () => {
    const out = outboundRequestHeaders(
      [
        'Host', 'evil.test',
        'Connection', 'keep-alive, X-Secret-Hop',
        'X-Secret-Hop', '1',
        'Proxy-Authorization', 'Basic abc',
        'Proxy-Connection', 'keep-alive',
        'Keep-Alive', 'timeout=5',
        'TE', 'trailers',
        'Transfer-Encoding', 'chunked',
        'Upgrade', 'h2c',
        'Expect', '100-continue',
        'Authorization', 'Bearer agent',
        'X-Tameflare-Request-Id', 'forged',
        'Content-Type', 'application/json',
        'X-Keep', 'a',
        'X-Keep', 'b',
      ],
      { host: 'api.github.com', stripHeader: 'authorization', requestIdHeader: 'x-tameflare-request-id', requestId: 'rid-1' },
    );
    expect(out).toEqual(['host', 'api.github.com', 'Content-Type', 'application/json', 'X-Keep', 'a', 'X-Keep', 'b', 'x-tameflare-request-id', 'rid-1']);
  });

  it('cleans response headers and drops Content-Length when the body may be rewritten', () => {
    const raw = ['Content-Length', '10', 'Connection', 'close', 'Transfer-Encoding', 'chunked', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2'];
    expect(inboundResponseHeaders(raw, { dropContentLength: false })).toEqual(['Content-Length', '10', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2']);
    expect(inboundResponseHeaders(raw.map((x) => Buffer.from(x)), { dropContentLength: true })).toEqual(['Set-Cookie', 'a=1', 'Set-Cookie', 'b=2']);
  });
});
