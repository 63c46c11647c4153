import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ProxyAgent, request } from 'undici';
import { GatewayHeaders, ProblemTypes } from './problem.ts';
import { sendWith, type ClientEnv } from './test/clients.ts';
import { TEST_TOKEN, decidedFor, startTestGateway, type TestGateway } from './test/kit.ts';
import { startHttpUpstream, type TestUpstream } from './test/upstream.ts';

describe('governance of each request', () => {
  let gw: TestGateway;
  let up: TestUpstream;
  let env: ClientEnv;
  let unavailableReason: string | null = null;

  beforeAll(async () => {
    up = await startHttpUpstream();
    gw = await startTestGateway({
      routes: {
        'api.example.test': { connector: 'plain', intercept: true, injection: null },
        'bearer.example.test': { connector: 'bearer', intercept: true, injection: { kind: 'bearer' } },
        'query.example.test': { connector: 'query', intercept: true, injection: { kind: 'query', name: 'api_key' } },
        'header.example.test': { connector: 'header', intercept: true, injection: { kind: 'header', name: 'X-Api-Key' } },
      },
      rules: [(r) => (r.data.request.method === 'DELETE' ? 'deny' : 'allow')],
      upstreamOverrides: {
        'api.example.test': up.origin,
        'bearer.example.test': up.origin,
        'query.example.test': up.origin,
        'header.example.test': up.origin,
      },
      available: () => unavailableReason,
      timeouts: { decisionMs: 500 },
    });
    env = { proxyUrl: gw.proxyUrl, caPem: gw.ca.certPem };
  });
  afterEach(async () => {
    unavailableReason = null;
    gw.recordFailure = null;
    gw.decideFailure = null;
    await gw.settled();
  });
  afterAll(async () => {
    await gw?.close();
    await up?.close();
  });

  it('answers 407 without a run token or with an unknown one, over HTTP and at CONNECT, and records nothing', async () => {
    const before = gw.events.length;
    const noToken = { proxyUrl: gw.url, caPem: gw.ca.certPem };
    const r1 = await sendWith('curl', noToken, { method: 'GET', url: 'http://api.example.test/x' });
    expect(r1.status).toBe(407);
    expect(r1.headers['proxy-authenticate']).toBe('Basic realm="tameflare"');
    expect(JSON.parse(r1.body.toString())).toMatchObject({ type: ProblemTypes.proxyAuth, status: 407 });
    const wrong = { proxyUrl: gw.proxyUrl.replace(TEST_TOKEN, 'tfr_wrong'), caPem: gw.ca.certPem };
    const r2 = await sendWith('curl', wrong, { method: 'GET', url: 'http://api.example.test/x' });
    expect(r2.status).toBe(407);
    const r3 = await sendWith('curl', wrong, { method: 'GET', url: 'https://api.example.test/x' }).catch((e: { stderr: string }) => e);
    expect(String((r3 as { stderr?: string }).stderr)).toMatch(/407/);
    expect(gw.events.length).toBe(before);
    expect(up.captured.filter((c) => c.url === '/x')).toHaveLength(0);
  });

  it('answers 503 and forwards nothing when the decision cannot be had', async () => {
    const before = up.captured.length;
    gw.decideFailure = new Error('no responders for tf.cmd.policy.decide');
    const r = await sendWith('undici', env, { method: 'GET', url: 'https://api.example.test/down' });
    expect(r.status).toBe(503);
    const p = JSON.parse(r.body.toString()) as { type: string; actionId: string };
    expect(p.type).toBe(ProblemTypes.unavailable);
    expect(up.captured.length).toBe(before);
    await gw.settled();
    const completed = gw.eventsOf(p.actionId).find((e) => e.type === 'ActionCompleted')!;
    expect(completed.data).toMatchObject({ outcome: 'unavailable', forwarded: false, status: 503 });
  });

  it('answers 503 and forwards nothing when ActionRequested is not durably recorded, even on allow', async () => {
    const before = up.captured.length;
    gw.recordFailure = new Error('JetStream publish not acknowledged');
    const r = await sendWith('curl', env, { method: 'POST', url: 'http://api.example.test/write', body: Buffer.from('{}') });
    expect(r.status).toBe(503);
    expect(up.captured.length).toBe(before);
  });

  it('answers 503 when no decision arrives in time', async () => {
    const gwHang = await startTestGateway({
      hosts: ['api.example.test'],
      upstreamOverrides: { 'api.example.test': up.origin },
      decide: () => new Promise(() => undefined),
      timeouts: { decisionMs: 300 },
    });
    try {
      const before = up.captured.length;
      const r = await sendWith('curl', { proxyUrl: gwHang.proxyUrl, caPem: gwHang.ca.certPem }, { method: 'GET', url: 'http://api.example.test/slow' });
      expect(r.status).toBe(503);
      expect(JSON.parse(r.body.toString()).detail).toMatch(/No decision arrived in time/);
      expect(up.captured.length).toBe(before);
      await gwHang.settled();
    } finally {
      await gwHang.close();
    }
  });

  it('answers 503 while the gateway reports the control plane lost', async () => {
    unavailableReason = 'The control plane has been unreachable for 31 s';
    const r = await sendWith('curl', env, { method: 'GET', url: 'http://api.example.test/x' });
    expect(r.status).toBe(503);
    expect(JSON.parse(r.body.toString()).detail).toContain('control plane');
  });

  it('forwards what policy denies when the gateway is in monitor mode, and records the decision', async () => {
    const gwMon = await startTestGateway({
      hosts: ['api.example.test'],
      upstreamOverrides: { 'api.example.test': up.origin },
      decide: async (requested) => ({ decided: decidedFor(requested, 'deny', { rule: 'no-deletes', mode: 'monitor' }), credential: null, approval: null }),
    });
    try {
      const before = up.captured.length;
      const r = await sendWith('curl', { proxyUrl: gwMon.proxyUrl, caPem: gwMon.ca.certPem }, { method: 'DELETE', url: 'http://api.example.test/repos/x' });
      expect(r.status).toBe(200);
      expect(up.captured.length).toBe(before + 1);
      await gwMon.settled();
      expect(gwMon.events.find((e) => e.type === 'ActionCompleted')!.data).toMatchObject({ outcome: 'completed', forwarded: true });
    } finally {
      await gwMon.close();
    }
  });

  it('strips the credential the agent sent, injects the released one, and scrubs it from the response', async () => {
    const r = await sendWith('python-requests', env, {
      method: 'GET',
      url: 'https://bearer.example.test/echo-auth',
      headers: { Authorization: 'Bearer agent-made-this-up' },
    });
    expect(r.status).toBe(200);
    const seen = up.captured.at(-1)!;
    expect(seen.headers.authorization).toBe(`Bearer ${gw.secret}`);
    expect(seen.rawHeaders.filter((h) => h.toLowerCase() === 'authorization')).toHaveLength(1);
    expect(r.body.toString()).not.toContain(gw.secret);
    expect(r.body.toString()).toBe('you sent: Bearer [REDACTED]');
    await gw.settled();
    const completed = gw.eventsOf(r.headers[GatewayHeaders.requestId]!).find((e) => e.type === 'ActionCompleted')!;
    expect(completed.data).toMatchObject({ credential: { secretName: 'test-secret', secretVersion: 1 }, redactions: 1 });
    expect(JSON.stringify(gw.events)).not.toContain(gw.secret);
  });

  it('injects query and header credentials in place of what the agent sent', async () => {
    await sendWith('curl', env, { method: 'GET', url: 'https://query.example.test/q?a=1&api_key=agents-own&b=2' });
    const q = up.captured.at(-1)!;
    expect(q.url).toBe(`/q?a=1&b=2&api_key=${encodeURIComponent(gw.secret)}`);
    await sendWith('undici', env, { method: 'GET', url: 'http://header.example.test/h', headers: { 'x-api-key': 'agents-own' } });
    const h = up.captured.at(-1)!;
    expect(h.headers['x-api-key']).toBe(gw.secret);
  });

  it('strips the agent credential where the connector injects one even when no credential is released', async () => {
    const gwNoCred = await startTestGateway({
      routes: { 'bearer.example.test': { connector: 'bearer', intercept: true, injection: { kind: 'bearer' } } },
      upstreamOverrides: { 'bearer.example.test': up.origin },
      decide: async (requested) => ({ decided: decidedFor(requested, 'allow', { rule: 'r' }), credential: null, approval: null }),
    });
    try {
      await sendWith('curl', { proxyUrl: gwNoCred.proxyUrl, caPem: gwNoCred.ca.certPem }, {
        method: 'GET',
        url: 'http://bearer.example.test/echo-auth',
        headers: { authorization: 'Bearer agent-made-this-up' },
      });
      expect(up.captured.at(-1)!.headers.authorization).toBeUndefined();
      await gwNoCred.settled();
    } finally {
      await gwNoCred.close();
    }
  });

  it('records client_aborted when the agent goes away mid-stream, and stops the upstream', async () => {
    up.sse.finishedAt = null;
    const agent = new ProxyAgent({ uri: gw.proxyUrl, requestTls: { ca: gw.ca.certPem } });
    const ac = new AbortController();
    const r = await request('https://api.example.test/sse', { dispatcher: agent, signal: ac.signal });
    const first = await r.body[Symbol.asyncIterator]().next();
    expect(Buffer.from(first.value as Buffer).toString()).toBe('data: first\n\n');
    ac.abort();
    await agent.destroy();
    await gw.settled();
    const completed = gw.events.filter((e) => e.type === 'ActionCompleted').at(-1)!;
    expect(completed.data).toMatchObject({ outcome: 'client_aborted', forwarded: true });
    up.sse.release?.();
  });

  it('records exactly one ActionCompleted for every ActionRequested', async () => {
    await gw.settled();
    const requested = gw.events.filter((e) => e.type === 'ActionRequested').map((e) => e.id);
    const completed = gw.events.filter((e) => e.type === 'ActionCompleted').map((e) => (e.data as { actionId: string }).actionId);
    expect(requested.length).toBeGreaterThanOrEqual(5);
    expect([...completed].sort()).toEqual([...requested].sort());
    for (const e of gw.events) if (e.type !== 'ActionDecided') expect(e.metadata.source).toBe('ingress@ingress-test');
  });
});
