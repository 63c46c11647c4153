import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uuidv7 } from '@tameflare/contracts';
import { ProblemTypes } from './problem.ts';
import { sendWith, type ClientEnv } from './test/clients.ts';
import { startTestGateway, type TestGateway } from './test/kit.ts';
import { startHttpUpstream, type TestUpstream } from './test/upstream.ts';
import type { ApprovalHold, ApprovalResult, ApprovalWaitInput } from './types.ts';

/** An approval desk in-process: each held request waits until the test decides it. */
function createDesk() {
  const waiting: { input: ApprovalWaitInput; decide: (r: ApprovalResult) => void }[] = [];
  const hold: ApprovalHold = {
    wait: (input) =>
      new Promise<ApprovalResult>((resolve) => {
        waiting.push({ input, decide: resolve });
      }),
  };
  const next = async () => {
    for (let i = 0; i < 500 && waiting.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    const w = waiting.shift();
    if (!w) throw new Error('no request is being held');
    return w;
  };
  return { hold, next, waiting };
}

describe('require_approval holds the request', () => {
  let gw: TestGateway;
  let up: TestUpstream;
  let env: ClientEnv;
  const desk = createDesk();

  beforeAll(async () => {
    up = await startHttpUpstream();
    gw = await startTestGateway({
      routes: {
        'api.example.test': { connector: 'github', intercept: true, injection: null },
        'pay.example.test': { connector: 'stripe', intercept: true, injection: { kind: 'basic' } },
      },
      rules: [(r) => (r.data.request.path.startsWith('/approve') ? 'require_approval' : 'allow')],
      upstreamOverrides: { 'api.example.test': up.origin, 'pay.example.test': up.origin },
      approvals: desk.hold,
      timeouts: { approvalHoldMs: 1500 },
      limits: { parseBodyBytes: 4096 },
    });
    env = { proxyUrl: gw.proxyUrl, caPem: gw.ca.certPem };
  });
  afterAll(async () => {
    await gw?.close();
    await up?.close();
  });

  it('forwards the held request, body intact, once the approval is granted, with the claimed credential', async () => {
    const before = up.captured.length;
    const body = Buffer.from(JSON.stringify({ amount: 5000, currency: 'usd' }));
    const pending = sendWith('curl', env, { method: 'POST', url: 'https://pay.example.test/approve/refunds', body });
    const held = await desk.next();
    expect(held.input.approval.status).toBe('pending');
    expect(held.input.decided.data.decision).toBe('require_approval');
    expect(held.input.requested.data.request.bodyDigest).toMatch(/^[0-9a-f]{64}$/);
    expect(up.captured.length).toBe(before);
    held.decide({ status: 'granted', credential: { secretName: 'stripe', secretVersion: 3, injection: { kind: 'basic' }, value: 'sk_test_granted' } });
    const r = await pending;
    expect(r.status).toBe(200);
    const seen = up.captured.at(-1)!;
    expect(seen.body!.equals(body)).toBe(true);
    expect(seen.headers.authorization).toBe(`Basic ${Buffer.from('sk_test_granted:').toString('base64')}`);
    await gw.settled();
    const completed = gw.events.filter((e) => e.type === 'ActionCompleted').at(-1)!;
    expect(completed.data).toMatchObject({
      outcome: 'completed',
      approvalId: held.input.approval.approvalId,
      credential: { secretName: 'stripe', secretVersion: 3 },
    });
  });

  it('answers 403 when the approval is denied, and the upstream sees nothing', async () => {
    const before = up.captured.length;
    const pending = sendWith('python-requests', env, { method: 'DELETE', url: 'https://api.example.test/approve/repo' });
    const held = await desk.next();
    held.decide({ status: 'denied', reason: 'not during the freeze', deniedBy: 'alice' });
    const r = await pending;
    expect(r.status).toBe(403);
    expect(r.headers['x-should-retry']).toBe('false');
    expect(JSON.parse(r.body.toString())).toMatchObject({
      type: ProblemTypes.approvalDenied,
      reason: 'not during the freeze',
      approvalId: held.input.approval.approvalId,
    });
    expect(up.captured.length).toBe(before);
    await gw.settled();
    expect(gw.events.filter((e) => e.type === 'ActionCompleted').at(-1)!.data).toMatchObject({ outcome: 'approval_denied' });
  });

  it('answers 408 when the hold times out, and stops waiting', async () => {
    const before = up.captured.length;
    const pending = sendWith('curl', env, { method: 'POST', url: 'http://api.example.test/approve/slow', body: Buffer.from('x') });
    const held = await desk.next();
    const r = await pending;
    expect(r.status).toBe(408);
    expect(r.headers['x-should-retry']).toBe('false');
    expect(JSON.parse(r.body.toString())).toMatchObject({ type: ProblemTypes.approvalExpired, approvalId: held.input.approval.approvalId });
    expect(held.input.signal.aborted).toBe(true);
    expect(up.captured.length).toBe(before);
    await gw.settled();
    expect(gw.events.filter((e) => e.type === 'ActionCompleted').at(-1)!.data).toMatchObject({ outcome: 'approval_expired', status: 408 });
  });

  it('answers 408 when the approval service reports the approval expired', async () => {
    const pending = sendWith('undici', env, { method: 'GET', url: 'https://api.example.test/approve/expired' });
    (await desk.next()).decide({ status: 'expired' });
    expect((await pending).status).toBe(408);
  });

  it('refuses to hold a request whose body is over the parse limit: it could never be shown or bound', async () => {
    const before = up.captured.length;
    const r = await sendWith('curl', env, { method: 'POST', url: 'http://api.example.test/approve/upload', body: Buffer.alloc(64 * 1024, 1) });
    expect(r.status).toBe(403);
    expect(JSON.parse(r.body.toString())).toMatchObject({ type: ProblemTypes.approvalNotPossible });
    expect(desk.waiting).toHaveLength(0);
    expect(up.captured.length).toBe(before);
  });

  it('answers 503 on a gateway without approvals', async () => {
    const gw2 = await startTestGateway({
      hosts: ['api.example.test'],
      rules: [() => 'require_approval'],
      upstreamOverrides: { 'api.example.test': up.origin },
    });
    try {
      const r = await sendWith('curl', { proxyUrl: gw2.proxyUrl, caPem: gw2.ca.certPem }, { method: 'GET', url: 'http://api.example.test/x' });
      expect(r.status).toBe(503);
      await gw2.settled();
    } finally {
      await gw2.close();
    }
  });

  it('a kill switch engaged during the hold ends it with 403', async () => {
    const pending = sendWith('curl', env, { method: 'GET', url: 'http://api.example.test/approve/held' });
    const held = await desk.next();
    gw.killSwitch.set({ killSwitchId: uuidv7(), scope: { kind: 'all' }, reason: 'stop everything', engagedBy: 'ops', engagedAt: new Date().toISOString() });
    expect(gw.proxy.enforceKillSwitch()).toBe(1);
    const r = await pending;
    expect(r.status).toBe(403);
    expect(r.headers['x-tameflare-kill-switch']).toBe('active');
    expect(held.input.signal.aborted).toBe(true);
    gw.killSwitch.delete('all');
    await gw.settled();
    expect(gw.events.filter((e) => e.type === 'ActionCompleted').at(-1)!.data).toMatchObject({ outcome: 'killed' });
  });
});
