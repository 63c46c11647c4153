import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import {
  ApprovalVoteRequestSchema,
  Commands,
  KillSwitchCommandSchema,
  sha256Hex,
  subjectOf,
  TameFlareError,
  uuidv7,
  type ApprovalStatusReply,
  type KillSwitchReply,
  type TameFlareEvent,
} from '@tameflare/contracts';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { createEventFactory } from '@tameflare/audit/testing';
import { startApiHarness, type ApiHarness } from './test/harness.ts';

const ACTIONS_Q = /* GraphQL */ `
  query Actions($filter: ActionFilter, $first: Int, $after: String, $last: Int, $before: String) {
    actions(filter: $filter, first: $first, after: $after, last: $last, before: $before) {
      edges { cursor node { id agentId type decision requestedAt resource connector gatewayId } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }`;

interface Row {
  id: string;
  agentId: string;
  type: string;
  decision: string | null;
  requestedAt: string;
  resource: string | null;
  connector: string;
  gatewayId: string;
}

describe('the GraphQL audit API over HTTP', () => {
  let h: ApiHarness;
  const f = createEventFactory({ seed: 42, start: new Date('2026-05-01T10:00:00Z') });
  const history: TameFlareEvent[] = [];
  let approvalId = '';
  let all: Row[] = [];

  const q = <T = any>(query: string, variables?: Record<string, unknown>, token?: string | null) => h.gql<T>(query, variables, token);
  const listAll = async (filter: Record<string, unknown> = {}) => {
    const out: Row[] = [];
    let after: string | null = null;
    for (;;) {
      const r: any = await q(ACTIONS_Q, { filter, first: 500, after });
      expect(r.body.errors).toBeUndefined();
      const c: any = r.body.data.actions;
      out.push(...c.edges.map((e: { node: Row }) => e.node));
      if (!c.pageInfo.hasNextPage) return out;
      after = c.pageInfo.endCursor;
    }
  };

  beforeAll(async () => {
    h = await startApiHarness('audit_api');
    const gateways = ['gw-main', 'gw-edge'];
    history.push(
      f.event('GatewayCreated', { gatewayId: 'gw-main', name: 'Main', mode: 'enforce', createdBy: 'admin' }),
      f.event('PolicyBundlePublished', { gatewayId: 'gw-main', version: 1, hash: sha256Hex('v1'), source: 'version: 1\nrules: []\n', ruleCount: 0, publishedBy: 'ci' }),
      f.event('PolicyBundlePublished', { gatewayId: 'gw-main', version: 3, hash: sha256Hex('v3'), source: 'version: 1\nrules:\n  - id: allow-all\n', ruleCount: 1, publishedBy: 'ci' }),
    );
    const run = f.runStarted({ agentId: 'agent-a', gatewayId: 'gw-main' });
    const runId = (run.data as { runId: string }).runId;
    history.push(run);
    for (let i = 0; i < 240; i++) {
      f.tick(1000);
      const agentId = ['agent-a', 'agent-b', 'agent-c'][i % 3]!;
      history.push(...f.action({ agentId, runId: agentId === 'agent-a' ? runId : undefined, gatewayId: gateways[i % 2]! }));
    }
    const pendingAction = f.action({ decision: 'require_approval', agentId: 'agent-a', runId, actionType: 'github.repo.delete', resource: 'acme/app' });
    history.push(...pendingAction);
    const approval = f.approval({ actionId: (pendingAction[0]!.data as { actionId: string }).actionId, runId, outcome: 'pending' });
    approvalId = (approval[0]!.data as { approvalId: string }).approvalId;
    history.push(...approval);
    const killSwitchId = uuidv7();
    history.push(
      f.event('KillSwitchEngaged', { killSwitchId, scope: { kind: 'agent', value: 'agent-b' }, reason: 'runaway', engagedBy: 'ops' }),
      f.event('KillSwitchAcknowledged', { killSwitchId, scope: { kind: 'agent', value: 'agent-b' }, state: 'engaged', ingressId: 'ingress-1', latencyMs: 4.2, cutConnections: 2 }),
      f.event('KillSwitchAcknowledged', { killSwitchId, scope: { kind: 'agent', value: 'agent-b' }, state: 'engaged', ingressId: 'ingress-2', latencyMs: 6.9, cutConnections: 0 }),
    );
    for (let i = 0; i < history.length; i += 200) await h.record(history.slice(i, i + 200));
    all = await listAll();
  }, 180_000);
  afterAll(async () => h?.dispose());

  describe('authentication', () => {
    it('gives nothing without a token, not even the schema', async () => {
      for (const token of [null, 'not-a-real-token-at-all-xyz']) {
        const r = await q('{ __schema { queryType { name } } }', undefined, token);
        expect(r.status).toBe(401);
        expect(r.body.data).toBeUndefined();
        expect(r.body.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
      }
      const ok = await q('{ viewer { name role } }');
      expect(ok.body.data).toEqual({ viewer: { name: 'viewer-alice', role: 'VIEWER' } });
      expect((await q('{ viewer { role } }', undefined, h.tokens.bootstrap)).body.data.viewer.role).toBe('ADMIN');
    });
  });

  describe('queries with filters', () => {
    it('lists every recorded action, newest first', async () => {
      const requested = history.filter((e) => e.type === 'ActionRequested');
      expect(all).toHaveLength(requested.length);
      const times = all.map((r) => Date.parse(r.requestedAt));
      expect([...times].sort((a, b) => b - a)).toEqual(times);
    });

    it.each([
      [{ agentId: 'agent-b' }, (r: Row) => r.agentId === 'agent-b'],
      [{ gatewayId: 'gw-edge' }, (r: Row) => r.gatewayId === 'gw-edge'],
      [{ connector: 'stripe' }, (r: Row) => r.connector === 'stripe'],
      [{ decision: ['DENY'] }, (r: Row) => r.decision === 'DENY'],
      [{ decision: ['ALLOW', 'REQUIRE_APPROVAL'] }, (r: Row) => r.decision !== 'DENY'],
      [{ actionType: 'github.repo.*' }, (r: Row) => r.type.startsWith('github.repo.')],
      [{ actionType: 'github.*' }, () => false],
      [{ actionType: 'github.**' }, (r: Row) => r.type.startsWith('github.')],
      [{ actionType: '*.*.create' }, (r: Row) => r.type.split('.').length === 3 && r.type.endsWith('.create')],
      [{ resource: 'acme/repo-1*' }, (r: Row) => /^acme\/repo-1[^/]*$/.test(r.resource ?? '')],
      [{ agentId: 'agent-a', decision: ['ALLOW'], actionType: 'stripe.**' }, (r: Row) => r.agentId === 'agent-a' && r.decision === 'ALLOW' && r.type.startsWith('stripe.')],
    ])('filters by %j', async (filter, keep) => {
      const got = await listAll(filter);
      expect(got.map((r) => r.id)).toEqual(all.filter(keep).map((r) => r.id));
    });

    it('filters by a time range, since inclusive and until exclusive', async () => {
      const since = all[150]!.requestedAt;
      const until = all[40]!.requestedAt;
      const got = await listAll({ since, until });
      expect(got.map((r) => r.id)).toEqual(all.slice(41, 151).map((r) => r.id));
    });
  });

  describe('Relay pagination', () => {
    it('walks forward and backward over the same rows without repeats', async () => {
      const forward: Row[] = [];
      let after: string | null = null;
      let pages = 0;
      for (;;) {
        const r: any = await q(ACTIONS_Q, { filter: { gatewayId: 'gw-main' }, first: 7, after });
        const c: any = r.body.data.actions;
        forward.push(...c.edges.map((e: { node: Row }) => e.node));
        expect(c.pageInfo.hasPreviousPage).toBe(after !== null);
        pages++;
        if (!c.pageInfo.hasNextPage) break;
        after = c.pageInfo.endCursor;
      }
      const expected = all.filter((r) => r.gatewayId === 'gw-main');
      expect(forward.map((r) => r.id)).toEqual(expected.map((r) => r.id));
      expect(pages).toBe(Math.ceil(expected.length / 7));
      const backward: Row[] = [];
      let before: string | null = null;
      for (;;) {
        const r: any = await q(ACTIONS_Q, { filter: { gatewayId: 'gw-main' }, last: 9, before });
        const c: any = r.body.data.actions;
        backward.unshift(...c.edges.map((e: { node: Row }) => e.node));
        if (!c.pageInfo.hasPreviousPage) break;
        before = c.pageInfo.startCursor;
      }
      expect(backward.map((r) => r.id)).toEqual(expected.map((r) => r.id));
    });

    it('stays stable while new actions are recorded between pages', async () => {
      const seen: string[] = [];
      let after: string | null = null;
      let round = 0;
      for (;;) {
        const r: any = await q(ACTIONS_Q, { first: 25, after });
        const c: any = r.body.data.actions;
        seen.push(...c.edges.map((e: { node: Row }) => e.node.id));
        if (!c.pageInfo.hasNextPage) break;
        after = c.pageInfo.endCursor;
        // Newer actions, and a late one whose request time falls in pages not read yet.
        if (round++ < 4) {
          const late = createEventFactory({ seed: 100 + round, start: new Date(Date.parse(all[200]!.requestedAt) - 500) }).action();
          const added = [...f.action(), ...late];
          history.push(...added);
          await h.record(added);
        }
      }
      expect(new Set(seen).size).toBe(seen.length);
      const original = all.map((r) => r.id);
      expect(seen.filter((id) => original.includes(id))).toEqual(original);
    }, 60_000);

    it('refuses a cursor it did not issue, with a clear message', async () => {
      for (const after of ['garbage', Buffer.from('["tf1","approvals","2026-05-01T00:00:00Z","x"]').toString('base64url')]) {
        const r = await q(ACTIONS_Q, { first: 5, after });
        expect(r.status).toBe(200);
        expect(r.body.errors![0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', tfCode: 'TF_ERR_AUDIT_INVALID_CURSOR' } });
        expect(r.body.errors![0]!.message).toMatch(/invalid cursor for actions/);
      }
      const big = await q(ACTIONS_Q, { first: 5000 });
      expect(big.body.errors![0]!.message).toBe('first must be between 1 and 500, got 5000');
    });
  });

  describe('bad input is a GraphQL error, never a server error', () => {
    it.each([
      ['a malformed query', '{ actions(first: 5) { edges { node { id } }', undefined, /Syntax Error/],
      ['an unknown field', '{ actions { edges { node { password } } } }', undefined, /Cannot query field "password"/],
      ['an unknown enum value', '{ actions(filter: { decision: [MAYBE] }) { edges { node { id } } } }', undefined, /Value "MAYBE" does not exist in "Decision" enum/],
      ['an unknown filter value in variables', ACTIONS_Q, { filter: { decision: ['maybe'] } }, /Value "maybe" does not exist in "Decision" enum/],
      ['a bad glob', '{ actions(filter: { actionType: "github.repo;drop" }) { edges { node { id } } } }', undefined, /invalid action type glob/],
      ['a bad id', '{ actions(filter: { agentId: "Agent A" }) { edges { node { id } } } }', undefined, /agentId "Agent A" is not a valid id/],
      ['an inverted range', '{ actions(filter: { since: "2026-06-01T00:00:00Z", until: "2026-05-01T00:00:00Z" }) { edges { node { id } } } }', undefined, /since .* must be before until/],
      ['a bad date', '{ actions(filter: { since: "yesterday" }) { edges { node { id } } } }', undefined, /DateTime must be an ISO 8601 date-time/],
      ['a bad action id', '{ action(id: "1; drop table") { id } }', undefined, /is not a UUID/],
      [
        'an over-deep query',
        '{ runs(first: 1) { edges { node { actions(first: 1) { edges { node { run { actions(first: 1) { edges { node { run { actions(first: 1) { nodes { id } } } } } } } } } } } } } }',
        undefined,
        /the query is 14 levels deep; at most 12 are allowed/,
      ],
      [
        'an over-costly query',
        '{ runs(first: 500) { edges { node { actions(first: 500) { edges { node { id approval { votes { voter } } } } } } } } }',
        undefined,
        /estimated cost is \d+; at most 50000 is allowed/,
      ],
      ['a huge document', `{ ${Array.from({ length: 3000 }, (_, i) => `a${i}: viewer { name }`).join(' ')} }`, undefined, /Document contains more tha[nt] 4000 tokens/],
    ])('%s', async (_name, query, variables, message) => {
      const r = await q(query, variables as Record<string, unknown> | undefined);
      expect(r.status).toBeLessThan(500);
      expect(r.body.data?.actions ?? null).toBeNull();
      expect(r.body.errors!.map((e) => e.message).join('\n')).toMatch(message);
      expect(JSON.stringify(r.body)).not.toMatch(/Unexpected error/);
    });
  });

  describe('dashboard and CLI queries', () => {
    it('shows a pending approval with the exact request, votes and time left', async () => {
      const r = await q(`{ pendingApprovals { nodes { id status reason quorum approverRoles timeLeftMs votes { voter }
          request { method url actionType resource params bodyDigest requestDigest } action { id decision } } } }`);
      const a = r.body.data.pendingApprovals.nodes.find((n: { id: string }) => n.id === approvalId);
      expect(a).toMatchObject({
        status: 'PENDING',
        quorum: 1,
        approverRoles: ['APPROVER', 'ADMIN'],
        votes: [],
        request: { method: 'DELETE', url: 'https://api.github.com/repos/acme/app', actionType: 'github.repo.delete', resource: 'acme/app', params: { repo: 'acme/app' } },
        action: { decision: 'REQUIRE_APPROVAL' },
      });
      expect(a.request.requestDigest).toMatch(/^[0-9a-f]{64}$/);
      expect(a.timeLeftMs).toBeGreaterThanOrEqual(0);
    });

    it('shows the kill-switch history with every replica acknowledgement', async () => {
      const r = await q(`{ killSwitchHistory(first: 5) { nodes { state reason actor scope { kind value key } acknowledgements { ingressId latencyMs cutConnections } } } activeKillSwitches { scope { key } } }`);
      expect(r.body.data.killSwitchHistory.nodes[0]).toMatchObject({
        state: 'ENGAGED',
        reason: 'runaway',
        actor: 'ops',
        scope: { kind: 'AGENT', value: 'agent-b', key: 'agent.agent-b' },
        acknowledgements: [
          { ingressId: 'ingress-1', latencyMs: 4.2, cutConnections: 2 },
          { ingressId: 'ingress-2', latencyMs: 6.9, cutConnections: 0 },
        ],
      });
      expect(r.body.data.activeKillSwitches).toEqual([{ scope: { key: 'agent.agent-b' } }]);
    });

    it('gives policy versions with their source, runs with counts by decision, credential uses and a chart', async () => {
      const r = await q(`{
        policyVersions(gatewayId: "gw-main") { nodes { version source ruleCount } }
        runs(filter: { agentId: "agent-a" }) { nodes { id actionCount decisions { allow deny requireApproval } actions(first: 3) { nodes { agentId } } } }
        credentialUses(filter: { secretName: "github-token" }, first: 500) { nodes { secretName secretVersion action { type } } }
        gateways { id activePolicyVersion }
      }`);
      expect(r.body.errors).toBeUndefined();
      expect(r.body.data.policyVersions.nodes).toEqual([
        { version: 3, source: 'version: 1\nrules:\n  - id: allow-all\n', ruleCount: 1 },
        { version: 1, source: 'version: 1\nrules: []\n', ruleCount: 0 },
      ]);
      expect(r.body.data.gateways).toEqual([{ id: 'gw-main', activePolicyVersion: 3 }]);
      const run = r.body.data.runs.nodes[0];
      const mine = all.filter((a) => a.agentId === 'agent-a');
      expect(run.actionCount).toBeGreaterThanOrEqual(mine.length);
      expect(run.decisions.allow + run.decisions.deny + run.decisions.requireApproval).toBe(run.actionCount);
      expect(run.actions.nodes.every((n: { agentId: string }) => n.agentId === 'agent-a')).toBe(true);
      const released = history.filter((e) => e.type === 'CredentialReleased' && (e.data as { secretName: string }).secretName === 'github-token');
      expect(r.body.data.credentialUses.nodes).toHaveLength(released.length);
      expect(r.body.data.credentialUses.nodes.every((n: { action: { type: string } }) => n.action.type.startsWith('github.'))).toBe(true);

      const chart = await q(`{ decisionsOverTime(since: "2026-05-01T10:00:00Z", until: "2026-05-01T11:00:00Z", bucket: FIVE_MINUTES) { start allow deny requireApproval } }`);
      const buckets = chart.body.data.decisionsOverTime;
      expect(buckets).toHaveLength(12);
      const decided = history.filter((e) => e.type === 'ActionDecided' && e.time < '2026-05-01T11:00:00Z');
      expect(buckets.reduce((n: number, b: { allow: number; deny: number; requireApproval: number }) => n + b.allow + b.deny + b.requireApproval, 0)).toBe(decided.length);
      const tooMany = await q(`{ decisionsOverTime(since: "2026-01-01T00:00:00Z", until: "2026-05-01T00:00:00Z", bucket: MINUTE) { start } }`);
      expect(tooMany.body.errors![0]!.message).toMatch(/at most 2000/);
    });

    it('backtests a candidate policy over the recorded actions', async () => {
      const source = [
        'version: 1',
        'rules:',
        '  - id: no-repo-deletes',
        '    effect: deny',
        '    match: { actions: ["github.repo.delete"] }',
        '  - id: everything-else',
        '    effect: allow',
        '    match: { actions: ["**"] }',
      ].join('\n');
      const r = await q(
        `query B($source: String!) { policyBacktest(source: $source, since: "2026-05-01T00:00:00Z") { evaluated changed transitions { transition count } changes { actionType before { decision } after { decision rule } } } }`,
        { source },
      );
      expect(r.body.errors).toBeUndefined();
      const report = r.body.data.policyBacktest;
      const decidedRows = history.filter((e) => e.type === 'ActionDecided');
      expect(report.evaluated).toBe(decidedRows.length);
      const typeOf = new Map(history.filter((e) => e.type === 'ActionRequested').map((e) => [(e.data as { actionId: string }).actionId, (e.data as { action: { type: string } }).action.type]));
      const wouldChange = decidedRows.filter((e) => {
        const d = e.data as { actionId: string; decision: string };
        const after = typeOf.get(d.actionId) === 'github.repo.delete' ? 'deny' : 'allow';
        return after !== d.decision;
      });
      expect(report.changed).toBe(wouldChange.length);
      for (const c of report.changes) expect(c.after.decision).toBe(c.actionType === 'github.repo.delete' ? 'DENY' : 'ALLOW');

      const invalid = await q(`{ policyBacktest(source: "version: 1\\nrules:\\n  - id: x\\n    effect: maybe\\n", since: "2026-05-01T00:00:00Z") { changed } }`);
      expect(invalid.body.errors![0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', tfCode: 'TF_ERR_POLICY_INVALID' } });
    });
  });

  describe('roles and mutations', () => {
    const voteCheck = TypeCompiler.Compile(ApprovalVoteRequestSchema);
    const killCheck = TypeCompiler.Compile(KillSwitchCommandSchema);

    it('a viewer cannot approve and the approval service never hears of it; an approver can', async () => {
      const received: unknown[] = [];
      const responder = await h.bus.serve({ ...Commands.approvalVote }, (p: unknown): ApprovalStatusReply => {
        received.push(p);
        if (!voteCheck.Check(p)) throw new Error('bad vote payload');
        return { approvalId: p.approvalId, status: 'granted', expiresAt: '2026-05-01T12:05:00.000Z', quorum: 1, approvals: [p.voter], deniedBy: null, reason: null };
      });
      try {
        const m = `mutation($id: ID!) { approve(approvalId: $id, comment: "looks fine") { status approvals quorum } }`;
        const denied = await q(m, { id: approvalId });
        expect(denied.body.errors![0]).toMatchObject({ message: 'Mutation.approve needs the approver role; the token "viewer-alice" has viewer', extensions: { code: 'FORBIDDEN' } });
        expect(denied.body.data).toBeNull();
        expect(received).toHaveLength(0);
        const ok = await q(m, { id: approvalId }, h.tokens.approver);
        expect(ok.body.data.approve).toEqual({ status: 'GRANTED', approvals: ['approver-alice'], quorum: 1 });
        expect(received).toEqual([{ approvalId, voter: 'approver-alice', voterRole: 'approver', vote: 'approve', comment: 'looks fine', channel: 'graphql' }]);
        const bad = await q(`mutation { deny(approvalId: "nope") { status } }`, undefined, h.tokens.admin);
        expect(bad.body.errors![0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
        expect(received).toHaveLength(1);
      } finally {
        await responder.stop();
      }
    });

    it('passes a refused vote on with its code, and says when the approval service is down', async () => {
      const responder = await h.bus.serve({ ...Commands.approvalVote }, () => {
        throw new TameFlareError('TF_ERR_APPROVAL_DUPLICATE_VOTE', 'approver-alice already voted on this approval');
      });
      const refused = await q(`mutation($id: ID!) { deny(approvalId: $id) { status } }`, { id: approvalId }, h.tokens.approver);
      expect(refused.body.errors![0]).toMatchObject({ message: 'approver-alice already voted on this approval', extensions: { code: 'COMMAND_REFUSED', tfCode: 'TF_ERR_APPROVAL_DUPLICATE_VOTE' } });
      await responder.stop();
      const down = await q(`mutation($id: ID!) { deny(approvalId: $id) { status } }`, { id: approvalId }, h.tokens.approver);
      expect(down.body.errors![0]).toMatchObject({ extensions: { code: 'SERVICE_UNAVAILABLE', tfCode: 'TF_ERR_NATS_NO_RESPONDERS' } });
    });

    it('only an admin engages the kill switch, through the control service', async () => {
      const received: unknown[] = [];
      const responder = await h.bus.serve({ ...Commands.killSwitchEngage }, (p: unknown): KillSwitchReply => {
        received.push(p);
        if (!killCheck.Check(p)) throw new Error('bad command');
        return { killSwitchId: uuidv7(), state: 'engaged', expected: 2, acknowledgements: [{ ingressId: 'i-1', latencyMs: 3, cutConnections: 1 }, { ingressId: 'i-2', latencyMs: 5, cutConnections: 0 }], tookEffectMs: 5 };
      });
      try {
        const m = `mutation { engageKillSwitch(scope: { kind: GATEWAY, value: "gw-main" }, reason: "incident 42") { state expected tookEffectMs acknowledgements { ingressId } } }`;
        expect((await q(m, undefined, h.tokens.approver)).body.errors![0]!.extensions!.code).toBe('FORBIDDEN');
        const ok = await q(m, undefined, h.tokens.admin);
        expect(ok.body.data.engageKillSwitch).toEqual({ state: 'ENGAGED', expected: 2, tookEffectMs: 5, acknowledgements: [{ ingressId: 'i-1' }, { ingressId: 'i-2' }] });
        expect(received).toEqual([{ scope: { kind: 'gateway', value: 'gw-main' }, reason: 'incident 42', actor: 'admin-alice' }]);
        const badScope = await q(`mutation { engageKillSwitch(scope: { kind: ALL, value: "x" }, reason: "r") { state } }`, undefined, h.tokens.admin);
        expect(badScope.body.errors![0]!.message).toMatch(/scope ALL takes no value/);
        expect(received).toHaveLength(1);
      } finally {
        await responder.stop();
      }
    });

    it('keeps the token list to admins', async () => {
      expect((await q('{ apiTokens { name } }')).body.errors![0]!.extensions!.code).toBe('FORBIDDEN');
      expect((await q('{ apiTokens { name } }', undefined, h.tokens.admin)).body.data.apiTokens).toEqual([]);
    });
  });

  describe('subscriptions', () => {
    const decided = (decision: 'allow' | 'deny') => f.action({ decision, gatewayId: 'gw-main', agentId: 'agent-live' }).find((e) => e.type === 'ActionDecided')!;

    it('streams a live decision over SSE, filtered by decision', async () => {
      const ctl = new AbortController();
      const res = await fetch(`${h.api.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${h.tokens.viewer}` },
        body: JSON.stringify({ query: 'subscription { decisions(gatewayId: "gw-main", decision: [ALLOW]) { actionId decision agentId matchedRules policyVersion } }' }),
        signal: ctl.signal,
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
      const reader = res.body!.getReader();
      const allow = decided('allow');
      // Publish until the subscription is live (the first messages may precede it), a deny first each time.
      const publishing = setInterval(() => {
        h.bus.publish(subjectOf(decided('deny')), decided('deny'));
        h.bus.publish(subjectOf(allow), allow);
      }, 50);
      let text = '';
      try {
        while (!/event: next\ndata: .*\n\n/.test(text)) {
          const { value, done } = await reader.read();
          if (done) break;
          text += new TextDecoder().decode(value);
        }
      } finally {
        clearInterval(publishing);
        ctl.abort();
      }
      const data = JSON.parse(/event: next\ndata: (.*)\n/.exec(text)![1]!);
      expect(data.data.decisions).toEqual({ actionId: (allow.data as { actionId: string }).actionId, decision: 'ALLOW', agentId: 'agent-live', matchedRules: ['rule-allow', 'rule-audit'], policyVersion: 3 });
    });

    it('streams kill-switch changes and per-replica acknowledgements over SSE', async () => {
      const ctl = new AbortController();
      const res = await fetch(`${h.api.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${h.tokens.viewer}` },
        body: JSON.stringify({ query: 'subscription { killSwitchEvents { type killSwitchId scope { key } ingressId latencyMs } }' }),
        signal: ctl.signal,
      });
      const reader = res.body!.getReader();
      const killSwitchId = uuidv7();
      const ack = f.event('KillSwitchAcknowledged', { killSwitchId, scope: { kind: 'all' }, state: 'engaged', ingressId: 'ingress-7', latencyMs: 12.5, cutConnections: 3 });
      const publishing = setInterval(() => h.bus.publish(subjectOf(ack), ack), 50);
      let text = '';
      try {
        while (!/event: next\ndata: .*\n\n/.test(text)) {
          const { value, done } = await reader.read();
          if (done) break;
          text += new TextDecoder().decode(value);
        }
      } finally {
        clearInterval(publishing);
        ctl.abort();
      }
      expect(JSON.parse(/event: next\ndata: (.*)\n/.exec(text)![1]!).data.killSwitchEvents).toEqual({ type: 'ACKNOWLEDGED', killSwitchId, scope: { key: 'all' }, ingressId: 'ingress-7', latencyMs: 12.5 });
    });

    it('streams approval events over WebSocket, and refuses a socket without a token', async () => {
      const wsUrl = h.api.url.replace('http', 'ws') + '/graphql';
      const client = createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${h.tokens.viewer}` }, retryAttempts: 0 });
      const approval = f.approval({ actionId: uuidv7(), outcome: 'pending' })[0]!;
      const got = new Promise<any>((resolve, reject) => {
        const stop = client.subscribe(
          { query: 'subscription { approvalEvents(gatewayId: "gw-main") { type approvalId data approval { id } } }' },
          { next: (v) => (resolve(v), stop()), error: reject, complete: () => undefined },
        );
      });
      const publishing = setInterval(() => h.bus.publish(subjectOf(approval), approval), 50);
      try {
        const v = await got;
        expect(v.data.approvalEvents).toMatchObject({ type: 'REQUESTED', approvalId: (approval.data as { approvalId: string }).approvalId, data: { reason: 'deleting a repository needs a human' }, approval: null });
      } finally {
        clearInterval(publishing);
        await client.dispose();
      }
      const anonymous = createClient({ url: wsUrl, webSocketImpl: WebSocket, retryAttempts: 0 });
      const refused = await new Promise<unknown>((resolve) => {
        anonymous.subscribe({ query: 'subscription { killSwitchEvents { type } }' }, { next: () => resolve('got data'), error: resolve, complete: () => resolve('completed') });
      });
      await anonymous.dispose();
      expect(String((refused as { code?: number; reason?: string })?.code ?? refused)).toMatch(/4403/);
    });
  });
});
