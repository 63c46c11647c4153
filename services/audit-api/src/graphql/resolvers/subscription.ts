import { EventSubjects, isValidName, type TameFlareEvent } from '@tameflare/contracts';
import { GraphQLError } from '../graphql-runtime.ts';
import type { AuditContext } from '../context.ts';
import { natsEvents } from '../../subscriptions/nats-events.ts';

type Args = Record<string, any>;
type Data = Record<string, any>;

function gatewaySubject(prefix: string, gatewayId: string | null | undefined): string {
  if (gatewayId === null || gatewayId === undefined) return `${prefix}.*`;
  if (!isValidName(gatewayId)) throw new GraphQLError(`gatewayId ${JSON.stringify(gatewayId.slice(0, 80))} is not a valid id`, { extensions: { code: 'BAD_USER_INPUT' } });
  return `${prefix}.${gatewayId}`;
}

const decisionEvent = (e: TameFlareEvent, ctx: AuditContext) => {
  const d = e.data as Data;
  return {
    eventId: e.id,
    time: e.time,
    actionId: d.actionId,
    gatewayId: d.gatewayId,
    agentId: d.agentId,
    runId: d.runId,
    decision: d.decision,
    enforced: d.enforced,
    reason: d.reason,
    matchedRules: d.matchedRules,
    decidingRule: d.decidingRule,
    policyVersion: d.policy?.version ?? null,
    decidedBy: d.decidedBy,
    action: () => ctx.loaders.action.load(d.actionId),
  };
};

const approvalEvent = (e: TameFlareEvent, ctx: AuditContext) => {
  const d = e.data as Data;
  return {
    eventId: e.id,
    type: e.type,
    time: e.time,
    approvalId: d.approvalId,
    actionId: d.actionId,
    gatewayId: d.gatewayId,
    agentId: d.agentId,
    data: d,
    approval: () => ctx.loaders.approval.load(d.approvalId),
  };
};

const killSwitchEvent = (e: TameFlareEvent) => {
  const d = e.data as Data;
  const scope = d.scope as { kind: string; value?: string };
  return {
    eventId: e.id,
    type: e.type,
    time: e.time,
    killSwitchId: d.killSwitchId,
    scope: { kind: scope.kind, value: scope.value ?? null, key: scope.kind === 'all' ? 'all' : `${scope.kind}.${scope.value}` },
    reason: d.reason ?? null,
    actor: d.engagedBy ?? d.releasedBy ?? null,
    ingressId: d.ingressId ?? null,
    latencyMs: d.latencyMs ?? null,
  };
};

/**
 * Live events from core NATS (the recorder relays approval and kill-switch events from the event
 * store to JetStream, which also delivers them to core subscribers). SSE by default; WebSocket
 * with graphql-ws on the same path.
 */
export const subscriptionResolvers = {
  decisions: {
    subscribe: (_p: unknown, a: Args, ctx: AuditContext) => {
      const subject = gatewaySubject(EventSubjects.decisions.replace(/\.>$/, ''), a.gatewayId);
      if (a.agentId && !isValidName(a.agentId)) throw new GraphQLError(`agentId ${JSON.stringify(String(a.agentId).slice(0, 80))} is not a valid id`, { extensions: { code: 'BAD_USER_INPUT' } });
      const decisions = a.decision as string[] | undefined;
      return natsEvents(ctx.bus, subject, (e) => e.type === 'ActionDecided' && (!a.agentId || (e.data as Data).agentId === a.agentId) && (!decisions || decisions.includes((e.data as Data).decision)));
    },
    resolve: (e: TameFlareEvent, _a: Args, ctx: AuditContext) => decisionEvent(e, ctx),
  },
  approvalEvents: {
    subscribe: (_p: unknown, a: Args, ctx: AuditContext) =>
      natsEvents(ctx.bus, gatewaySubject(EventSubjects.approvals.replace(/\.>$/, '.*'), a.gatewayId), (e) => e.type.startsWith('Approval')),
    resolve: (e: TameFlareEvent, _a: Args, ctx: AuditContext) => approvalEvent(e, ctx),
  },
  killSwitchEvents: {
    subscribe: (_p: unknown, _a: Args, ctx: AuditContext) => natsEvents(ctx.bus, EventSubjects.killSwitch, (e) => e.type.startsWith('KillSwitch')),
    resolve: (e: TameFlareEvent) => killSwitchEvent(e),
  },
};
