import { Buckets, ControlSubjects, killSwitchScopeKey, uuidv7, type KillSwitchAck, type KillSwitchEntry, type KillSwitchScope } from '@tameflare/contracts';
import type { Listener } from '@tameflare/messaging';
import { GatewayHeaders, ProblemTypes } from '@tameflare/proxy';
import { sendWith, type ClientEnv } from '@tameflare/proxy/testing';
import { ProxyAgent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './test/harness.ts';

const entry = (scope: KillSwitchScope, reason = 'runaway agent'): KillSwitchEntry => ({
  killSwitchId: uuidv7(),
  scope,
  reason,
  engagedBy: 'ops@example.com',
  engagedAt: new Date().toISOString(),
});

describe('kill switch from KV tf_killswitch', () => {
  let h: Harness;
  let env: ClientEnv;
  let acks: KillSwitchAck[];
  let ackListener: Listener;
  const nextAck = async (killSwitchId: string, state: 'engaged' | 'released') => {
    for (let i = 0; i < 200; i++) {
      const a = acks.find((x) => x.killSwitchId === killSwitchId && x.state === state);
      if (a) return a;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`no ${state} acknowledgement for ${killSwitchId}`);
  };

  beforeAll(async () => {
    h = await startHarness();
    env = { proxyUrl: h.proxyUrl, caPem: h.caPem };
    acks = [];
    ackListener = await h.bus.subscribe(ControlSubjects.killSwitchAck, (p: KillSwitchAck) => void acks.push(p));
  });
  afterAll(async () => {
    await ackListener?.stop();
    await h?.stop();
  });

  it('applies an engaged switch to new requests and acknowledges it with the ingress id and time', async () => {
    const e = entry({ kind: 'agent', value: 'agent-1' });
    const kv = await h.bus.kv(Buckets.killSwitch);
    const before = Date.now();
    await kv.put(killSwitchScopeKey(e.scope), e);
    const ack = await nextAck(e.killSwitchId, 'engaged');
    expect(ack).toMatchObject({ ingressId: 'ingress-a', cutConnections: 0 });
    expect(Date.parse(ack.appliedAt)).toBeGreaterThanOrEqual(before - 5);
    const r = await sendWith('curl', env, { method: 'GET', url: 'https://api.github.com/user' });
    expect(r.status).toBe(403);
    expect(r.headers[GatewayHeaders.killSwitch]).toBe('active');
    expect(JSON.parse(r.body.toString())).toMatchObject({ type: ProblemTypes.killSwitch, reason: 'runaway agent', killSwitchId: e.killSwitchId });
    const decided = (await h.streamEvents()).filter((x) => x.type === 'ActionDecided').at(-1)!;
    expect(decided.data).toMatchObject({ decidedBy: 'kill_switch', killSwitchId: e.killSwitchId });
    expect(decided.metadata.source).toBe('ingress@ingress-a');

    await kv.delete(killSwitchScopeKey(e.scope));
    expect(await nextAck(e.killSwitchId, 'released')).toMatchObject({ ingressId: 'ingress-a' });
    expect((await sendWith('curl', env, { method: 'GET', url: 'https://api.github.com/user' })).status).toBe(200);
  });

  it('cuts an in-flight stream in scope and counts it in the acknowledgement', async () => {
    h.github.sse.finishedAt = null;
    const agent = new ProxyAgent({ uri: h.proxyUrl, requestTls: { ca: h.caPem } });
    const e = entry({ kind: 'connector', value: 'github' });
    try {
      const r = await request('https://api.github.com/sse', { dispatcher: agent });
      const it = r.body[Symbol.asyncIterator]();
      expect(Buffer.from((await it.next()).value as Buffer).toString()).toBe('data: first\n\n');
      await (await h.bus.kv(Buckets.killSwitch)).put(killSwitchScopeKey(e.scope), e);
      expect((await nextAck(e.killSwitchId, 'engaged')).cutConnections).toBe(1);
      await expect(it.next()).rejects.toThrow();
      // Another connector is not in scope.
      expect((await sendWith('curl', env, { method: 'GET', url: 'http://files.example.test/x' })).status).toBe(200);
    } finally {
      h.github.sse.release?.();
      await agent.destroy();
      await (await h.bus.kv(Buckets.killSwitch)).delete(killSwitchScopeKey(e.scope));
      await nextAck(e.killSwitchId, 'released');
    }
  });
});

describe('losing the control plane', () => {
  let h: Harness;
  let env: ClientEnv;
  beforeAll(async () => {
    h = await startHarness({ env: { TF_INGRESS_CONTROL_PLANE_GRACE_MS: '300ms' } });
    env = { proxyUrl: h.proxyUrl, caPem: h.caPem };
  });
  afterAll(async () => h?.stop());

  it('fails closed with 503 while NATS is away, says so after the grace, and recovers when it is back', async () => {
    expect((await sendWith('curl', env, { method: 'GET', url: 'http://files.example.test/x' })).status).toBe(200);
    const before = h.files.captured.length;
    await h.nats.stop();
    const during = await sendWith('curl', env, { method: 'GET', url: 'http://files.example.test/x' });
    expect(during.status).toBe(503);
    await new Promise((r) => setTimeout(r, 600));
    const after = await sendWith('curl', env, { method: 'GET', url: 'http://files.example.test/x' });
    expect(after.status).toBe(503);
    expect(JSON.parse(after.body.toString()).detail).toMatch(/control plane has been unreachable/);
    expect(h.files.captured.length).toBe(before);

    await h.nats.start();
    let status = 0;
    for (let i = 0; i < 100 && status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      status = (await sendWith('curl', env, { method: 'GET', url: 'http://files.example.test/x' })).status;
    }
    expect(status).toBe(200);
  }, 60_000);
});
