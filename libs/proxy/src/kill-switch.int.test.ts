import { once } from 'node:events';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ProxyAgent, request } from 'undici';
import { uuidv7, type KillSwitchEntry, type KillSwitchScope } from '@tameflare/contracts';
import { killSwitchScopeKey } from '@tameflare/contracts';
import { GatewayHeaders, ProblemTypes } from './problem.ts';
import { openTunnel, sendWith, type ClientEnv } from './test/clients.ts';
import { startTestGateway, type TestGateway } from './test/kit.ts';
import { createUpstreamTls, startHttpUpstream, startHttpsUpstream, type TestUpstream, type UpstreamTls } from './test/upstream.ts';

const engaged = (scope: KillSwitchScope, reason = 'runaway loop'): KillSwitchEntry => ({
  killSwitchId: uuidv7(),
  scope,
  reason,
  engagedBy: 'ops@example.com',
  engagedAt: new Date().toISOString(),
});

describe('kill switch', () => {
  let gw: TestGateway;
  let up: TestUpstream;
  let tlsUp: TestUpstream;
  let upstreamTls: UpstreamTls;
  let env: ClientEnv;

  beforeAll(async () => {
    up = await startHttpUpstream();
    upstreamTls = await createUpstreamTls(['files.example.test']);
    tlsUp = await startHttpsUpstream(upstreamTls as UpstreamTls & { cert: string; key: string });
    gw = await startTestGateway({
      routes: {
        'api.example.test': { connector: 'github', intercept: true, injection: null },
        'pay.example.test': { connector: 'payments', intercept: true, injection: null },
        'files.example.test': { connector: 'files', intercept: false, injection: null },
      },
      rules: [() => 'allow'],
      upstreamOverrides: { 'api.example.test': up.origin, 'pay.example.test': up.origin, 'files.example.test:443': tlsUp.origin },
    });
    env = { proxyUrl: gw.proxyUrl, caPem: gw.ca.certPem };
  });
  afterEach(async () => {
    for (const e of gw.killSwitch.entries()) gw.killSwitch.delete(killSwitchScopeKey(e.scope));
    await gw.settled();
  });
  afterAll(async () => {
    await gw?.close();
    await up?.close();
    await tlsUp?.close();
    upstreamTls?.dispose();
  });

  it('answers new requests in scope 403 with the reason and x-tameflare-kill-switch, inside TLS', async () => {
    const entry = engaged({ kind: 'agent', value: 'agent-1' });
    gw.killSwitch.set(entry);
    const before = up.captured.length;
    for (const url of ['http://api.example.test/x', 'https://api.example.test/x']) {
      const r = await sendWith('curl', env, { method: 'GET', url });
      expect(r.status).toBe(403);
      expect(r.headers[GatewayHeaders.killSwitch]).toBe('active');
      expect(r.headers[GatewayHeaders.shouldRetry]).toBe('false');
      const p = JSON.parse(r.body.toString()) as { type: string; reason: string; killSwitchId: string; actionId: string };
      expect(p).toMatchObject({ type: ProblemTypes.killSwitch, reason: 'runaway loop', killSwitchId: entry.killSwitchId });
      await gw.settled();
      const events = gw.eventsOf(p.actionId);
      expect(events[1]!.data).toMatchObject({ decidedBy: 'kill_switch', killSwitchId: entry.killSwitchId, decision: 'deny' });
      expect(events[2]!.data).toMatchObject({ outcome: 'killed', forwarded: false });
    }
    expect(up.captured.length).toBe(before);
    gw.killSwitch.delete(killSwitchScopeKey(entry.scope));
    expect((await sendWith('curl', env, { method: 'GET', url: 'http://api.example.test/x' })).status).toBe(200);
  });

  it('stops only what is in scope: another agent, another connector pass', async () => {
    gw.killSwitch.set(engaged({ kind: 'agent', value: 'someone-else' }));
    expect((await sendWith('curl', env, { method: 'GET', url: 'http://api.example.test/x' })).status).toBe(200);
    gw.killSwitch.set(engaged({ kind: 'connector', value: 'payments' }));
    expect((await sendWith('curl', env, { method: 'GET', url: 'http://pay.example.test/refund' })).status).toBe(403);
    expect((await sendWith('curl', env, { method: 'GET', url: 'http://api.example.test/x' })).status).toBe(200);
  });

  it('cuts an in-flight streamed response when engaged, and records it as killed', async () => {
    up.sse.finishedAt = null;
    const agent = new ProxyAgent({ uri: gw.proxyUrl, requestTls: { ca: gw.ca.certPem } });
    try {
      const r = await request('https://api.example.test/sse', { dispatcher: agent });
      const it = r.body[Symbol.asyncIterator]();
      expect(Buffer.from((await it.next()).value as Buffer).toString()).toBe('data: first\n\n');
      gw.killSwitch.set(engaged({ kind: 'gateway', value: 'gw-1' }));
      expect(gw.proxy.enforceKillSwitch()).toBe(1);
      await expect(it.next()).rejects.toThrow();
      await gw.settled();
      const completed = gw.events.filter((e) => e.type === 'ActionCompleted').at(-1)!;
      expect(completed.data).toMatchObject({ outcome: 'killed', forwarded: true });
    } finally {
      up.sse.release?.();
      await agent.destroy();
    }
  });

  it('cuts an open CONNECT tunnel that is not intercepted', async () => {
    const tunnel = await openTunnel(gw.proxyUrl, 'files.example.test', 443, { ca: upstreamTls.ca.certPem });
    // The agent verified the upstream's own certificate: the tunnel is not intercepted.
    tunnel.write('GET /through-tunnel HTTP/1.1\r\nHost: files.example.test\r\n\r\n');
    await once(tunnel, 'data');
    expect(tlsUp.captured.at(-1)!.url).toBe('/through-tunnel');
    const closed = once(tunnel, 'close');
    gw.killSwitch.set(engaged({ kind: 'connector', value: 'files' }));
    expect(gw.proxy.enforceKillSwitch()).toBe(1);
    await closed;
    await gw.settled();
    const completed = gw.events.filter((e) => e.type === 'ActionCompleted').at(-1)!;
    expect(completed.data).toMatchObject({ outcome: 'killed' });
    await expect(openTunnel(gw.proxyUrl, 'files.example.test', 443, { ca: upstreamTls.ca.certPem })).rejects.toThrow(/403/);
  });

  it('leaves requests out of scope running', async () => {
    up.sse.finishedAt = null;
    const agent = new ProxyAgent({ uri: gw.proxyUrl, requestTls: { ca: gw.ca.certPem } });
    try {
      const r = await request('https://api.example.test/sse', { dispatcher: agent });
      const it = r.body[Symbol.asyncIterator]();
      await it.next();
      gw.killSwitch.set(engaged({ kind: 'connector', value: 'payments' }));
      expect(gw.proxy.enforceKillSwitch()).toBe(0);
      up.sse.release!();
      let rest = '';
      for (let n = await it.next(); !n.done; n = await it.next()) rest += Buffer.from(n.value as Buffer).toString();
      expect(rest).toContain('[DONE]');
    } finally {
      await agent.close();
    }
  });
});
