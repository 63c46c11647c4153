import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEgressGuard } from './egress.ts';
import { ProblemTypes } from './problem.ts';
import { sendWith, type ClientEnv, type ClientName } from './test/clients.ts';
import { startTestGateway, type TestGateway } from './test/kit.ts';
import { startHttpUpstream, type TestUpstream } from './test/upstream.ts';
import type { Route } from './types.ts';

const internal: Route = { connector: 'internal', intercept: true, injection: null };
const tunnelled: Route = { connector: 'opaque', intercept: false, injection: null };

describe('egress guard on the request path', () => {
  let gw: TestGateway;
  let up: TestUpstream;
  let env: ClientEnv;

  beforeAll(async () => {
    up = await startHttpUpstream();
    const routes: Record<string, Route> = {
      '127.0.0.1': internal,
      '10.1.2.3': internal,
      '169.254.169.254': internal,
      '::1': internal,
      localhost: internal,
      'corp.internal.test': internal,
      'overridden.test': internal,
      'opaque-private.test': tunnelled,
      'api.allowed.test': internal,
    };
    // Every destination above is a configured connector domain: what refuses them is the address check.
    gw = await startTestGateway({
      routes,
      rules: [() => 'allow'],
      // The upstream's own port is allowed, so the address check is what refuses 127.0.0.1:<port>.
      allowedPorts: [80, 443, up.port],
      upstreamOverrides: { 'overridden.test': up.origin },
      egress: createEgressGuard({
        // The system resolver (with /etc/hosts) for real names; two test names resolve to private addresses.
        resolve: async (host) => {
          if (host === 'corp.internal.test') return [{ address: '10.20.30.40', family: 4 }];
          if (host === 'opaque-private.test') return [{ address: '192.168.7.7', family: 4 }];
          const { lookup } = await import('node:dns/promises');
          return lookup(host, { all: true, verbatim: true });
        },
      }),
    });
    env = { proxyUrl: gw.proxyUrl, caPem: gw.ca.certPem };
  });
  afterAll(async () => {
    await gw?.close();
    await up?.close();
  });

  const cases: [string, string, ClientName][] = [
    ['http://127.0.0.1:' + 0 + '/', 'loopback', 'curl'],
    ['http://10.1.2.3/', 'private', 'curl'],
    ['http://169.254.169.254/latest/meta-data/', 'metadata', 'curl'],
    ['http://[::1]/', 'loopback', 'curl'],
    ['http://localhost/', 'loopback', 'python-requests'],
    ['https://localhost/', 'loopback', 'curl'],
    ['https://169.254.169.254/latest/meta-data/', 'metadata', 'undici'],
    ['https://[::1]/', 'loopback', 'curl'],
    ['https://corp.internal.test/', 'private', 'python-urllib'],
  ];

  for (const [rawUrl, reason, client] of cases) {
    it(`refuses ${rawUrl} (${reason}) with a 403 egress problem (${client})`, async () => {
      const url = rawUrl.replace(':0/', `:${up.port}/`);
      const before = up.captured.length;
      const r = await sendWith(client, env, { method: 'GET', url });
      expect(r.status).toBe(403);
      const problem = JSON.parse(r.body.toString()) as { type: string; reason: string; actionId: string; decisionId: string };
      expect(problem.type).toBe(ProblemTypes.egressDenied);
      expect(problem.reason).toContain(reason.replace('_', '-'));
      expect(up.captured.length).toBe(before);
      await gw.settled();
      const events = gw.eventsOf(problem.actionId);
      expect(events.map((e) => e.type)).toEqual(['ActionRequested', 'ActionDecided', 'ActionCompleted']);
      expect(events[1]!.data).toMatchObject({ decision: 'deny', decidedBy: 'egress', policy: null });
      expect(events[1]!.id).toBe(problem.decisionId);
    });
  }

  it('reaches a loopback upstream only through an explicit override', async () => {
    const viaOverride = await sendWith('curl', env, { method: 'GET', url: 'http://overridden.test/ok' });
    expect(viaOverride.status).toBe(200);
    expect(up.captured.at(-1)!.headers.host).toBe('overridden.test');
    const direct = await sendWith('curl', env, { method: 'GET', url: `http://127.0.0.1:${up.port}/ok` });
    expect(direct.status).toBe(403);
    expect(JSON.parse(direct.body.toString()).reason).toContain('loopback');
  });

  it('refuses destinations no connector serves, and ports that are not allowed', async () => {
    const unknown = await sendWith('curl', env, { method: 'GET', url: 'https://unknown.example.org/' });
    expect(unknown.status).toBe(403);
    expect(JSON.parse(unknown.body.toString())).toMatchObject({ type: ProblemTypes.egressDenied });
    const port = await sendWith('curl', env, { method: 'GET', url: 'http://api.allowed.test:8081/' });
    expect(port.status).toBe(403);
    expect(JSON.parse(port.body.toString()).reason).toContain('port 8081');
  });

  it('refuses a tunnelled (not intercepted) destination that resolves to a private address at CONNECT', async () => {
    const r = await sendWith('curl', env, { method: 'GET', url: 'https://opaque-private.test/' }).catch((e: { stderr: string }) => e);
    expect(String((r as { stderr?: string }).stderr ?? '')).toMatch(/403/);
    await gw.settled();
    const decided = gw.events.filter((e) => e.type === 'ActionDecided').at(-1)!;
    expect(decided.data).toMatchObject({ decidedBy: 'egress', decision: 'deny' });
  });
});
