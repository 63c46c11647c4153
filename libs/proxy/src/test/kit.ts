/**
 * Real in-process implementations of the pipeline steps, for tests and benchmarks of the engine
 * without NATS: a run table, a connector table, an event log, a rule-based decider with
 * approvals, and a released credential for connectors that inject one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEvent, digestOf, uuidv7, type EventEnvelope, type TameFlareEvent } from '@tameflare/contracts';
import { loadOrCreateCa, type CertificateAuthority } from '../ca.ts';
import { genericClassify } from '../generic-classify.ts';
import { createKillSwitchState, type KillSwitchState } from '../kill-switch-state.ts';
import { createProxyServer, type ProxyServer } from '../server.ts';
import type { ApprovalHold, DecideResult, Identity, PendingApproval, ProxyServerOptions, Route } from '../types.ts';

export const TEST_TOKEN = 'tfr_test-token-0123456789';
export const TEST_IDENTITY: Identity = {
  runId: '0190a000-0000-7000-8000-000000000001',
  agentId: 'agent-1',
  agentName: 'test agent',
  gatewayId: 'gw-1',
};

export type Rule = (requested: EventEnvelope<'ActionRequested'>) => 'allow' | 'deny' | 'require_approval' | undefined;

export interface TestGateway {
  proxy: ProxyServer;
  url: string;
  /** `http://tf:<token>@host:port` */
  proxyUrl: string;
  ca: CertificateAuthority;
  stateDir: string;
  events: TameFlareEvent[];
  killSwitch: KillSwitchState;
  routes: Map<string, Route>;
  rules: Rule[];
  /** When set, record() fails with this error (the durable store is down). */
  recordFailure: Error | null;
  /** When set, decide() fails with this error (the policy service is down). */
  decideFailure: Error | null;
  /** Secret injected for connectors with an injection. */
  secret: string;
  /** Events of one action. */
  eventsOf(actionId: string): TameFlareEvent[];
  /** Waits until every ActionRequested has its ActionCompleted. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

export interface TestGatewayOptions extends Partial<Omit<ProxyServerOptions, 'ca' | 'route'>> {
  /** Hosts governed by connector `test` (intercepted), e.g. `api.github.com`. */
  hosts?: string[];
  /** Extra routes by host. */
  routes?: Record<string, Route>;
  rules?: Rule[];
  secret?: string;
  approvalHold?: ApprovalHold;
  stateDir?: string;
}

/** The policy decision event a real policy service would record, built from a rule outcome. */
export function decidedFor(
  requested: EventEnvelope<'ActionRequested'>,
  decision: 'allow' | 'deny' | 'require_approval',
  options: { rule?: string | null; reason?: string; mode?: 'enforce' | 'monitor' } = {},
): EventEnvelope<'ActionDecided'> {
  const r = requested.data;
  return createEvent(
    'ActionDecided',
    {
      actionId: r.actionId,
      gatewayId: r.gatewayId,
      agentId: r.agentId,
      runId: r.runId,
      decision,
      enforced: (options.mode ?? 'enforce') === 'enforce',
      mode: options.mode ?? 'enforce',
      reason: options.reason ?? `rule ${options.rule ?? 'default'} says ${decision}`,
      matchedRules: options.rule ? [options.rule] : [],
      decidingRule: options.rule ?? null,
      policy: { version: 1, hash: digestOf('test-policy') },
      decidedBy: 'policy',
      killSwitchId: null,
      inputDigest: digestOf({ requestDigest: r.requestDigest }),
      approval: decision === 'require_approval' ? { approverRoles: ['approver'], quorum: 1, timeoutMs: 60_000 } : null,
      error: null,
      evaluationMicros: 1,
    },
    { correlationId: r.actionId, causationId: requested.id, source: 'policy@test' },
  );
}

/** Starts a proxy on a free loopback port with in-process pipeline steps. */
export async function startTestGateway(options: TestGatewayOptions = {}): Promise<TestGateway> {
  const stateDir = options.stateDir ?? mkdtempSync(join(tmpdir(), 'tf-proxy-'));
  const ca = await loadOrCreateCa({ stateDir });
  const events: TameFlareEvent[] = [];
  const killSwitch = createKillSwitchState();
  const routes = new Map<string, Route>();
  for (const h of options.hosts ?? []) routes.set(h, { connector: 'test', intercept: true, injection: null });
  for (const [h, r] of Object.entries(options.routes ?? {})) routes.set(h, r);
  const secret = options.secret ?? 'sk_live_test_secret_value_42';
  const gw = {
    events,
    killSwitch,
    routes,
    rules: options.rules ?? [],
    recordFailure: null as Error | null,
    decideFailure: null as Error | null,
    secret,
  };
  const { hosts: _h, routes: _r, rules: _ru, secret: _s, approvalHold, stateDir: _sd, ...proxyOptions } = options;
  const proxy = createProxyServer({
    ingressId: 'ingress-test',
    authenticate: (token) => (token === TEST_TOKEN ? TEST_IDENTITY : null),
    route: (target) => routes.get(target.host) ?? null,
    classify: genericClassify,
    record: async (event) => {
      if (gw.recordFailure) throw gw.recordFailure;
      events.push(event);
    },
    decide: async (requested): Promise<DecideResult> => {
      if (gw.decideFailure) throw gw.decideFailure;
      let decision: 'allow' | 'deny' | 'require_approval' = 'deny';
      let rule: string | null = null;
      for (const [i, r] of gw.rules.entries()) {
        const d = r(requested);
        if (d) {
          decision = d;
          rule = `rule-${i}`;
          break;
        }
      }
      const decided = decidedFor(requested, decision, { rule });
      events.push(decided);
      const route = routes.get(requested.data.request.host);
      const credential =
        decision === 'allow' && route?.injection ? { secretName: 'test-secret', secretVersion: 1, injection: route.injection, value: gw.secret } : null;
      let approval: PendingApproval | null = null;
      if (decision === 'require_approval') {
        approval = { approvalId: uuidv7(), status: 'pending', expiresAt: new Date(Date.now() + 60_000).toISOString() };
      }
      return { decided, credential, approval };
    },
    killSwitch,
    ...(approvalHold ? { approvals: approvalHold } : {}),
    ...proxyOptions,
    ca,
  });
  await proxy.listen(0, '127.0.0.1');
  const proxyUrl = proxy.url.replace('http://', `http://tf:${TEST_TOKEN}@`);
  const eventsOf = (actionId: string) => events.filter((e) => (e.data as { actionId?: string }).actionId === actionId);
  return Object.assign(gw, {
    proxy,
    url: proxy.url,
    proxyUrl,
    ca,
    stateDir,
    eventsOf,
    async settled() {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const req = events.filter((e) => e.type === 'ActionRequested').length;
        const done = events.filter((e) => e.type === 'ActionCompleted').length;
        if (req === done) return;
        if (Date.now() > deadline) throw new Error(`${req - done} action(s) never completed`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async close() {
      await proxy.close({ graceMs: 1000 });
      if (!options.stateDir) rmSync(stateDir, { recursive: true, force: true });
    },
  });
}
