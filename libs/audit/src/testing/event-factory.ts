import { createEvent, sha256Hex, uuidv7, type EventData, type EventType, type TameFlareEvent } from '@tameflare/contracts';

/**
 * Builds valid catalog events for tests and benchmarks: whole actions (requested, decided,
 * optionally a credential release, completed), approvals and control-plane events. Times come
 * from a clock the caller controls, so generated histories are reproducible.
 */
export interface EventFactory {
  /** The events of one action, in the order the request path emits them. */
  action(o?: ActionOptions): TameFlareEvent[];
  approval(o: { actionId: string; gatewayId?: string; agentId?: string; runId?: string; outcome?: 'granted' | 'denied' | 'expired' | 'pending' }): TameFlareEvent[];
  runStarted(o?: { runId?: string; agentId?: string; agentName?: string; gatewayId?: string }): TameFlareEvent;
  runEnded(o: { runId: string; agentId?: string; gatewayId?: string }): TameFlareEvent;
  event<T extends EventType>(type: T, data: EventData<T>): TameFlareEvent;
  /** Advances the clock by `ms` and returns the new time. */
  tick(ms?: number): Date;
  now(): Date;
}

export interface ActionOptions {
  actionId?: string;
  gatewayId?: string;
  agentId?: string;
  runId?: string;
  actionType?: string;
  connector?: string;
  resource?: string | null;
  decision?: 'allow' | 'deny' | 'require_approval';
  /** Add a CredentialReleased (default: for allowed actions). */
  credential?: boolean;
  status?: number;
}

const ACTION_TYPES = ['github.repo.get', 'github.repo.delete', 'github.pr.merge', 'github.issue.create', 'stripe.refund.create', 'stripe.charge.list', 'slack.chat.post', 'openai.chat.create'];

export function createEventFactory(options: { start?: Date; seed?: number; source?: string; realTime?: boolean } = {}): EventFactory {
  let clock = options.start?.getTime() ?? Date.parse('2026-05-01T12:00:00.000Z');
  let seed = options.seed ?? 1;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const source = options.source ?? 'test@factory';
  // With realTime, every event is stamped with the wall clock (for lag measurements).
  const tick = (ms = 1) => new Date(options.realTime ? (clock = Date.now()) : (clock += ms));
  const make = <T extends EventType>(type: T, data: EventData<T>, correlationId: string): TameFlareEvent =>
    createEvent(type, data, { correlationId, source, time: tick(), id: uuidv7(clock) }) as TameFlareEvent;

  return {
    tick,
    now: () => new Date(clock),
    event: (type, data) => make(type, data, uuidv7(clock)),
    action(o = {}) {
      const actionId = o.actionId ?? uuidv7(clock);
      const gatewayId = o.gatewayId ?? 'gw-main';
      const agentId = o.agentId ?? pick(['agent-a', 'agent-b', 'agent-c']);
      const runId = o.runId ?? '00000000-0000-7000-8000-000000000001';
      const type = o.actionType ?? pick(ACTION_TYPES);
      const connector = o.connector ?? type.split('.')[0]!;
      const decision = o.decision ?? pick(['allow', 'allow', 'allow', 'deny', 'require_approval'] as const);
      const resource = o.resource === undefined ? `acme/repo-${Math.floor(rand() * 50)}` : o.resource;
      const actor = { actionId, gatewayId, agentId, runId };
      const requested = make(
        'ActionRequested',
        {
          ...actor,
          agentName: `Agent ${agentId}`,
          ingressId: 'ingress-1',
          connectionId: `c-${Math.floor(rand() * 1000)}`,
          request: {
            method: type.endsWith('.delete') ? 'DELETE' : type.endsWith('.get') || type.endsWith('.list') ? 'GET' : 'POST',
            scheme: 'https',
            host: `api.${connector}.com`,
            port: 443,
            path: `/v1/${type.replace(/\./g, '/')}`,
            query: rand() < 0.3 ? 'page=2' : '',
            contentType: 'application/json',
            contentLength: 42,
            bodyDigest: sha256Hex(actionId),
            bodyTruncated: false,
            userAgent: 'test-agent/1.0',
          },
          action: { type, connector, resource, params: { amount: Math.floor(rand() * 1000), repo: resource }, risk: type.includes('delete') ? 'destructive' : 'write', notes: [] },
          classifierVersion: 'connectors@1',
          requestDigest: sha256Hex(`req:${actionId}`),
        },
        actionId,
      );
      const policy = { version: 3, hash: sha256Hex('policy-v3') };
      const decided = make(
        'ActionDecided',
        {
          ...actor,
          decision,
          enforced: true,
          mode: 'enforce',
          reason: `rule said ${decision}`,
          matchedRules: [`rule-${decision}`, 'rule-audit'],
          decidingRule: `rule-${decision}`,
          policy,
          decidedBy: 'policy',
          killSwitchId: null,
          inputDigest: sha256Hex(`in:${actionId}`),
          approval: decision === 'require_approval' ? { approverRoles: ['approver'], quorum: 1, timeoutMs: 300_000 } : null,
          error: null,
          evaluationMicros: Math.round(rand() * 2000) / 100,
        },
        actionId,
      );
      const out: TameFlareEvent[] = [requested, decided];
      const withCredential = o.credential ?? decision === 'allow';
      if (withCredential) {
        out.push(
          make(
            'CredentialReleased',
            {
              ...actor,
              approvalId: null,
              connector,
              secretId: '00000000-0000-7000-8000-00000000000a',
              secretName: `${connector}-token`,
              secretVersion: 2,
              injection: { kind: 'bearer' },
              ingressId: 'ingress-1',
            },
            actionId,
          ),
        );
      }
      const forwarded = decision === 'allow';
      out.push(
        make(
          'ActionCompleted',
          {
            ...actor,
            outcome: forwarded ? 'completed' : decision === 'deny' ? 'denied' : 'approval_expired',
            status: o.status ?? (forwarded ? 200 : decision === 'deny' ? 403 : 408),
            forwarded,
            bytesIn: 42,
            bytesOut: forwarded ? 1234 : 0,
            upstreamMs: forwarded ? Math.round(rand() * 5000) / 100 : null,
            totalMs: Math.round(rand() * 6000) / 100,
            credential: withCredential ? { secretName: `${connector}-token`, secretVersion: 2 } : null,
            approvalId: null,
            redactions: 0,
            error: null,
          },
          actionId,
        ),
      );
      return out;
    },
    approval(o) {
      const approvalId = uuidv7(clock);
      const ref = { approvalId, actionId: o.actionId, gatewayId: o.gatewayId ?? 'gw-main', agentId: o.agentId ?? 'agent-a', runId: o.runId ?? '00000000-0000-7000-8000-000000000001' };
      const expiresAt = new Date(clock + 300_000).toISOString();
      const out: TameFlareEvent[] = [
        make(
          'ApprovalRequested',
          {
            ...ref,
            agentName: 'Agent A',
            requestDigest: sha256Hex(`req:${o.actionId}`),
            request: {
              method: 'DELETE',
              url: 'https://api.github.com/repos/acme/app',
              action: { type: 'github.repo.delete', connector: 'github', resource: 'acme/app', params: { repo: 'acme/app' }, risk: 'destructive', notes: [] },
              bodyDigest: null,
            },
            ruleId: 'rule-require_approval',
            reason: 'deleting a repository needs a human',
            approverRoles: ['approver', 'admin'],
            quorum: 1,
            timeoutMs: 300_000,
            expiresAt,
          },
          o.actionId,
        ),
      ];
      const outcome = o.outcome ?? 'granted';
      if (outcome === 'granted') {
        out.push(make('ApprovalVoteRecorded', { ...ref, voter: 'alice', voterRole: 'approver', vote: 'approve', comment: 'ok', channel: 'graphql' }, o.actionId));
        out.push(make('ApprovalGranted', { ...ref, approvers: ['alice'] }, o.actionId));
      } else if (outcome === 'denied') {
        out.push(make('ApprovalVoteRefused', { ...ref, voter: 'bob', reason: 'missing_role', channel: 'cli' }, o.actionId));
        out.push(make('ApprovalVoteRecorded', { ...ref, voter: 'carol', voterRole: 'admin', vote: 'deny', comment: null, channel: 'cli' }, o.actionId));
        out.push(make('ApprovalDenied', { ...ref, deniedBy: 'carol', reason: 'no', cause: 'vote', killSwitchId: null }, o.actionId));
      } else if (outcome === 'expired') {
        out.push(make('ApprovalExpired', { ...ref, expiredAt: expiresAt }, o.actionId));
      }
      return out;
    },
    runStarted(o = {}) {
      const runId = o.runId ?? uuidv7(clock);
      const agentId = o.agentId ?? 'agent-a';
      return make(
        'AgentRunStarted',
        {
          runId,
          agentId,
          agentName: o.agentName ?? `Agent ${agentId}`,
          gatewayId: o.gatewayId ?? 'gw-main',
          tokenHash: sha256Hex(`token:${runId}`),
          command: 'python agent.py',
          hostname: 'build-7',
          pid: 4242,
          startedBy: 'ci',
        },
        runId,
      );
    },
    runEnded(o) {
      return make('AgentRunEnded', { runId: o.runId, agentId: o.agentId ?? 'agent-a', gatewayId: o.gatewayId ?? 'gw-main', exitCode: 0, signal: null, durationMs: 1234 }, o.runId);
    },
  };
}
