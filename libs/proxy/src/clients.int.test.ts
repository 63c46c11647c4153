import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayHeaders, ProblemTypes } from './problem.ts';
import { CLIENTS, sendWith, type ClientEnv } from './test/clients.ts';
import { startTestGateway, type TestGateway } from './test/kit.ts';
import { createUpstreamTls, patternBytes, startHttpUpstream, startHttpsUpstream, type TestUpstream } from './test/upstream.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('real clients through the proxy to local upstreams', () => {
  let gw: TestGateway;
  let http: TestUpstream;
  let https: TestUpstream;
  let env: ClientEnv;
  let disposeTls: () => void;

  beforeAll(async () => {
    const tls = await createUpstreamTls(['api.example.test']);
    disposeTls = tls.dispose;
    http = await startHttpUpstream();
    https = await startHttpsUpstream(tls);
    gw = await startTestGateway({
      hosts: ['api.example.test'],
      // Deletes are denied; everything else is allowed.
      rules: [(r) => (r.data.request.method === 'DELETE' ? 'deny' : 'allow')],
      upstreamOverrides: { 'api.example.test:80': http.origin, 'api.example.test:443': https.origin },
      upstreamCa: [tls.ca.certPem],
    });
    env = { proxyUrl: gw.proxyUrl, caPem: gw.ca.certPem };
  });
  afterAll(async () => {
    await gw?.close();
    await http?.close();
    await https?.close();
    disposeTls?.();
  });

  for (const scheme of ['http', 'https'] as const) {
    const upstream = () => (scheme === 'http' ? http : https);
    for (const client of CLIENTS) {
      describe(`${client} over ${scheme}`, () => {
        it('delivers an allowed request to the upstream byte for byte, and its response back byte for byte', async () => {
          const body = randomBytes(200 * 1024);
          const before = upstream().captured.length;
          const r = await sendWith(client, env, {
            method: 'POST',
            url: `${scheme}://api.example.test/upload?x=1&y=%2F`,
            body,
            headers: { 'content-type': 'application/octet-stream', 'x-agent': 'yes' },
          });
          expect(r.status).toBe(200);
          const got = upstream().captured.slice(before);
          expect(got).toHaveLength(1);
          const seen = got[0]!;
          expect(seen.method).toBe('POST');
          expect(seen.url).toBe('/upload?x=1&y=%2F');
          expect(seen.bodyLength).toBe(body.length);
          expect(seen.bodySha256).toBe(sha(body));
          expect(seen.headers.host).toBe('api.example.test');
          expect(seen.headers['x-agent']).toBe('yes');
          expect(seen.headers['proxy-authorization']).toBeUndefined();
          expect(seen.headers['proxy-connection']).toBeUndefined();
          const requestId = r.headers[GatewayHeaders.requestId]!;
          expect(seen.headers[GatewayHeaders.requestId]).toBe(requestId);
          expect(r.headers['x-upstream']).toBe('yes');
          expect(r.body.toString()).toBe(
            JSON.stringify({ ok: true, method: 'POST', url: '/upload?x=1&y=%2F', bodyLength: body.length, bodySha256: sha(body) }),
          );

          await gw.settled();
          const events = gw.eventsOf(requestId);
          expect(events.map((e) => e.type)).toEqual(['ActionRequested', 'ActionDecided', 'ActionCompleted']);
          const completed = events[2]!.data as { outcome: string; forwarded: boolean; bytesIn: number; status: number };
          expect(completed).toMatchObject({ outcome: 'completed', forwarded: true, bytesIn: body.length, status: 200 });
          expect(events[0]!.data).toMatchObject({ ingressId: 'ingress-test', request: { method: 'POST', scheme, host: 'api.example.test' } });
        });

        it('returns a binary response unchanged', async () => {
          const r = await sendWith(client, env, { method: 'GET', url: `${scheme}://api.example.test/pattern?bytes=70001` });
          expect(r.status).toBe(200);
          expect(r.body.length).toBe(70001);
          expect(sha(r.body)).toBe(sha(patternBytes(70001)));
        });

        it('answers a denied request with the 403 problem, and the upstream sees nothing', async () => {
          const before = upstream().captured.length;
          const r = await sendWith(client, env, { method: 'DELETE', url: `${scheme}://api.example.test/repos/acme/widgets` });
          expect(r.status).toBe(403);
          expect(r.headers['content-type']).toBe('application/problem+json');
          expect(r.headers[GatewayHeaders.shouldRetry]).toBe('false');
          expect(r.headers[GatewayHeaders.ingress]).toBe('ingress-test');
          const problem = JSON.parse(r.body.toString()) as Record<string, unknown>;
          expect(problem).toMatchObject({
            type: ProblemTypes.policyDenied,
            status: 403,
            title: 'Denied by policy',
            action: 'http.delete',
            rule: 'rule-0',
            reason: 'rule rule-0 says deny',
          });
          expect(problem.decisionId).toMatch(/^[0-9a-f-]{36}$/);
          expect(upstream().captured.length).toBe(before);
          await gw.settled();
          const events = gw.eventsOf(problem.actionId as string);
          expect(events.map((e) => e.type)).toEqual(['ActionRequested', 'ActionDecided', 'ActionCompleted']);
          expect(events[1]!.id).toBe(problem.decisionId);
          expect(events[2]!.data).toMatchObject({ outcome: 'denied', forwarded: false, status: 403 });
        });
      });
    }
  }
});
