import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTameFlareError, type CredentialInjection } from '@tameflare/contracts';
import { REDACTED, VaultErrorCode, basicCredential, createSecretScrubber, injectCredential } from './index.ts';

const secret = 'sk_live_51H8fakeButLongEnough/+=Value';

interface Seen {
  url: string;
  headers: IncomingHttpHeaders;
}

// The upstream: records what it received, and echoes the credential back in a header and the body
// (as an API that reflects the caller's token would), so the scrubber has something to catch.
let server: Server;
let base: string;
const seen: Seen[] = [];
beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({ url: req.url!, headers: req.headers });
    const echoed = JSON.stringify({ url: req.url, authorization: req.headers.authorization ?? null, key: req.headers['x-api-key'] ?? null, token: secret });
    res.setHeader('x-echo-token', `token=${secret}`);
    res.setHeader('x-echo-b64', Buffer.from(secret).toString('base64'));
    res.setHeader('content-type', 'application/json');
    res.end(echoed);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

/** Sends the agent's request through injection and the response back through the scrubber. */
async function roundTrip(rule: CredentialInjection, agentHeaders: Record<string, string | string[]>, path: string) {
  const injected = injectCredential(agentHeaders, `${base}${path}`, rule, secret);
  const scrubber = createSecretScrubber(secret, rule);
  const agentSees = await new Promise<{ headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = request(injected.url, { method: 'GET', headers: injected.headers }, (res) => {
      const headers = scrubber.headers(res.headers);
      const chunks: Buffer[] = [];
      res.pipe(scrubber.body()).on('data', (c: Buffer) => chunks.push(c)).on('end', () => resolve({ headers, body: Buffer.concat(chunks).toString() })).on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
  return { upstream: seen.at(-1)!, agentSees, redactions: scrubber.redactions };
}

const agentHeaders = {
  Authorization: 'Bearer agent-made-this-up',
  'Proxy-Authorization': 'Bearer tfr_run_token',
  'X-Api-Key': 'agent-key',
  'x-api-KEY': 'second-copy',
  accept: 'application/json',
};

function expectScrubbed(agentSees: { headers: IncomingHttpHeaders; body: string }) {
  const all = JSON.stringify(agentSees);
  expect(all).not.toContain(secret);
  expect(all).not.toContain(encodeURIComponent(secret));
  expect(all).not.toContain(Buffer.from(secret).toString('base64').replace(/=+$/, ''));
  expect(agentSees.headers['x-echo-token']).toBe(`token=${REDACTED}`);
  expect(agentSees.headers['x-echo-b64']).toMatch(/^\[REDACTED\]=*$/);
  expect(JSON.parse(agentSees.body).token).toBe(REDACTED);
}

describe('credential injection round trip through a real HTTP upstream', () => {
  it('bearer: replaces the agent Authorization and drops Proxy-Authorization', async () => {
    const { upstream, agentSees, redactions } = await roundTrip({ kind: 'bearer' }, agentHeaders, '/v1/charges?limit=3');
    expect(upstream.headers.authorization).toBe(`Bearer ${secret}`);
    expect(upstream.headers['proxy-authorization']).toBeUndefined();
    expect(upstream.headers['x-api-key']).toBe('second-copy');
    expect(upstream.url).toBe('/v1/charges?limit=3');
    expectScrubbed(agentSees);
    expect(JSON.parse(agentSees.body).authorization).toBe(`Bearer ${REDACTED}`);
    expect(redactions).toBe(4);
  });

  it('basic: sends base64(username:secret), and the basic form is scrubbed as well', async () => {
    const { upstream, agentSees } = await roundTrip({ kind: 'basic', username: 'x-access-token' }, agentHeaders, '/');
    expect(upstream.headers.authorization).toBe(`Basic ${Buffer.from(`x-access-token:${secret}`).toString('base64')}`);
    expect(upstream.headers['proxy-authorization']).toBeUndefined();
    expectScrubbed(agentSees);
    expect(JSON.parse(agentSees.body).authorization).toMatch(/^Basic \[REDACTED\]=*$/);
    expect(basicCredential({}, 'sk_test_123')).toBe(Buffer.from('sk_test_123:').toString('base64'));
    expect(basicCredential({}, 'user:pass')).toBe(Buffer.from('user:pass').toString('base64'));
  });

  it('custom header: removes every copy the agent sent (any case) and sets prefix + secret', async () => {
    const { upstream, agentSees } = await roundTrip({ kind: 'header', name: 'X-API-Key', prefix: 'Token ' }, agentHeaders, '/items');
    expect(upstream.headers['x-api-key']).toBe(`Token ${secret}`);
    expect(upstream.headers.authorization).toBeUndefined();
    expect(upstream.headers['proxy-authorization']).toBeUndefined();
    expect(upstream.headers.accept).toBe('application/json');
    expectScrubbed(agentSees);
  });

  it('query parameter: removes every agent copy, keeps the rest of the query byte for byte, appends the secret', async () => {
    const { upstream, agentSees } = await roundTrip({ kind: 'query', name: 'api_key' }, agentHeaders, '/search?q=a%20b+c&api_key=fake1&x=%2F&api%5Fkey=fake2&api_key');
    const u = new URL(upstream.url, base);
    expect(u.searchParams.getAll('api_key')).toEqual([secret]);
    expect(upstream.url.startsWith('/search?q=a%20b+c&x=%2F&api_key=')).toBe(true);
    expect(upstream.headers.authorization).toBeUndefined();
    expectScrubbed(agentSees);
    expect(JSON.parse(agentSees.body).url).not.toContain('sk_live');
  });

  it('does not modify the inputs', () => {
    const h = { ...agentHeaders };
    const u = new URL(`${base}/x?api_key=1`);
    injectCredential(h, u, { kind: 'query', name: 'api_key' }, secret);
    expect(h).toEqual(agentHeaders);
    expect(u.search).toBe('?api_key=1');
  });

  it('refuses framing headers and values no header can carry', () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
        return 'ok';
      } catch (err) {
        return isTameFlareError(err) ? err.code : 'unexpected';
      }
    };
    expect(code(() => injectCredential({}, base, { kind: 'header', name: 'Content-Length' }, secret))).toBe(VaultErrorCode.InjectionInvalid);
    expect(code(() => injectCredential({}, base, { kind: 'header', name: 'host' }, secret))).toBe(VaultErrorCode.InjectionInvalid);
    expect(code(() => injectCredential({}, base, { kind: 'bearer' }, 'tökén-ünïcode-€'))).toBe(VaultErrorCode.InjectionInvalid);
    expect(code(() => injectCredential({}, base, { kind: 'basic' }, 'tökén-ünïcode-€'))).toBe('ok');
  });
});
