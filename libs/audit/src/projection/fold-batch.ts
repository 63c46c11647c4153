import { validateEvent, type EventEnvelope, type TameFlareEvent } from '@tameflare/contracts';
import { AuditError, AuditErrorCode } from '../errors.ts';

/** An event as the projection receives it: the envelope exactly as stored, and where it sits in the log. */
export interface ProjectableEvent {
  /** The stored envelope (`id`, `type`, `version`, `time`, `data`, `metadata`); validated here. */
  readonly envelope: unknown;
  /** The event store's opaque checkpoint of this event. */
  readonly checkpoint: string;
}

/** Column groups of an action row; each group is written by one event type only. */
export type ActionGroup = 'requested' | 'decided' | 'credential' | 'completed' | 'approvalLink' | 'released';

/** One action's writes in a batch: its identity and, per group, the values of the latest event of that type. */
export interface ActionWrite {
  identity: { action_id: string; gateway_id: string; agent_id: string; run_id: string };
  groups: Partial<Record<ActionGroup, Record<string, unknown>>>;
}

/** Additive and min/max effects, merged per key within a batch (order-independent by construction). */
export interface AgentTouch {
  agent_id: string;
  /** From the first ActionRequested in the batch; only fills a missing name (AgentRunStarted sets it). */
  agent_name: string;
  first_seen_at: string;
  last_seen_at: string;
  actions_total: number;
}

export interface RunCounters {
  run_id: string;
  agent_id: string;
  gateway_id: string;
  first_action_at: string | null;
  last_action_at: string | null;
  actions_total: number;
  decisions_allow: number;
  decisions_deny: number;
  decisions_require_approval: number;
}

/** A write to a low-rate table, applied in log order. */
export type OrderedWrite = { event: TameFlareEvent; checkpoint: string };

/**
 * What a batch of events does to the read models. High-rate effects (actions, credential uses,
 * counters) are merged per key so a batch costs a few set-based statements; the rest is applied
 * one event at a time, in log order. Either way the end state depends only on the events, never
 * on where the batch boundaries fell, which is what makes replay byte-identical.
 */
export interface ProjectionPlan {
  actions: Map<string, ActionWrite>;
  credentialUses: Record<string, unknown>[];
  agents: Map<string, AgentTouch>;
  runs: Map<string, RunCounters>;
  /** key `${bucket}|${gateway}|${decision}` → count */
  decisionCounts: Map<string, number>;
  ordered: OrderedWrite[];
  events: number;
}

/** The minute an ISO time falls in, as ISO (`2026-05-01T12:34:00.000Z`). */
export function minuteBucket(iso: string): string {
  const ms = Date.parse(iso);
  return new Date(ms - (((ms % 60_000) + 60_000) % 60_000)).toISOString();
}

/** `https://api.github.com/repos/o/r?x=1`, leaving out the default port. */
export function requestUrl(r: { scheme: string; host: string; port: number; path: string; query: string }): string {
  const defaultPort = (r.scheme === 'https' || r.scheme === 'wss') ? 443 : 80;
  const host = r.host.includes(':') && !r.host.startsWith('[') ? `[${r.host}]` : r.host;
  const port = r.port === defaultPort ? '' : `:${r.port}`;
  const query = r.query === '' ? '' : r.query.startsWith('?') ? r.query : `?${r.query}`;
  return `${r.scheme}://${host}${port}${r.path}${query}`;
}

function json(v: unknown): string | null {
  return v === null || v === undefined ? null : JSON.stringify(v);
}

function earlier(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return Date.parse(a) <= Date.parse(b) ? a : b;
}
function later(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return Date.parse(a) >= Date.parse(b) ? a : b;
}

/**
 * Validates every event and folds the batch into a {@link ProjectionPlan}.
 *
 * @throws AuditError `TF_ERR_AUDIT_PROJECTION` naming the first event that is not a valid
 * catalog event (unknown type or version, schema violation); nothing of the batch is applied.
 */
export function foldBatch(events: readonly ProjectableEvent[]): ProjectionPlan {
  const plan: ProjectionPlan = {
    actions: new Map(),
    credentialUses: [],
    agents: new Map(),
    runs: new Map(),
    decisionCounts: new Map(),
    ordered: [],
    events: events.length,
  };
  for (const item of events) {
    let event: TameFlareEvent;
    try {
      event = validateEvent(item.envelope);
    } catch (cause) {
      const id = (item.envelope as { id?: unknown } | null)?.id;
      const type = (item.envelope as { type?: unknown } | null)?.type;
      throw new AuditError(AuditErrorCode.Projection, `cannot apply event ${String(id)} (${String(type)}) at ${item.checkpoint}: ${(cause as Error).message}`, {
        cause,
        details: { eventId: typeof id === 'string' ? id : null, eventType: typeof type === 'string' ? type : null, checkpoint: item.checkpoint },
      });
    }
    foldOne(plan, event, item.checkpoint);
  }
  return plan;
}

function actionWrite(plan: ProjectionPlan, d: { actionId: string; gatewayId: string; agentId: string; runId: string }): ActionWrite {
  let w = plan.actions.get(d.actionId);
  if (!w) {
    w = { identity: { action_id: d.actionId, gateway_id: d.gatewayId, agent_id: d.agentId, run_id: d.runId }, groups: {} };
    plan.actions.set(d.actionId, w);
  }
  return w;
}

function runCounters(plan: ProjectionPlan, d: { runId: string; agentId: string; gatewayId: string }): RunCounters {
  let r = plan.runs.get(d.runId);
  if (!r) {
    r = {
      run_id: d.runId,
      agent_id: d.agentId,
      gateway_id: d.gatewayId,
      first_action_at: null,
      last_action_at: null,
      actions_total: 0,
      decisions_allow: 0,
      decisions_deny: 0,
      decisions_require_approval: 0,
    };
    plan.runs.set(d.runId, r);
  }
  return r;
}

function foldOne(plan: ProjectionPlan, e: TameFlareEvent, checkpoint: string): void {
  switch (e.type) {
    case 'ActionRequested':
      return foldRequested(plan, e);
    case 'ActionDecided': {
      const d = e.data;
      actionWrite(plan, d).groups.decided = {
        decision: d.decision,
        enforced: d.enforced,
        mode: d.mode,
        reason: d.reason,
        matched_rules: d.matchedRules,
        deciding_rule: d.decidingRule,
        policy_version: d.policy?.version ?? null,
        policy_hash: d.policy?.hash ?? null,
        decided_by: d.decidedBy,
        kill_switch_id: d.killSwitchId,
        input_digest: d.inputDigest,
        approval_requirement: json(d.approval),
        decision_error: json(d.error),
        evaluation_micros: d.evaluationMicros,
        session_values: json(d.session),
        decided_at: e.time,
        decided_event_id: e.id,
      };
      const r = runCounters(plan, d);
      if (d.decision === 'allow') r.decisions_allow++;
      else if (d.decision === 'deny') r.decisions_deny++;
      else r.decisions_require_approval++;
      const key = `${minuteBucket(e.time)}|${d.gatewayId}|${d.decision}`;
      plan.decisionCounts.set(key, (plan.decisionCounts.get(key) ?? 0) + 1);
      return;
    }
    case 'CredentialReleased': {
      const d = e.data;
      actionWrite(plan, d).groups.credential = {
        credential_secret_id: d.secretId,
        credential_secret_name: d.secretName,
        credential_secret_version: d.secretVersion,
        credential_connector: d.connector,
        credential_injection: d.injection.kind,
        credential_approval_id: d.approvalId,
        credential_ingress_id: d.ingressId,
        credential_released_at: e.time,
      };
      plan.credentialUses.push({
        event_id: e.id,
        action_id: d.actionId,
        gateway_id: d.gatewayId,
        agent_id: d.agentId,
        run_id: d.runId,
        approval_id: d.approvalId,
        connector: d.connector,
        secret_id: d.secretId,
        secret_name: d.secretName,
        secret_version: d.secretVersion,
        injection_kind: d.injection.kind,
        ingress_id: d.ingressId,
        released_at: e.time,
      });
      return;
    }
    case 'ActionCompleted': {
      const d = e.data;
      actionWrite(plan, d).groups.completed = {
        outcome: d.outcome,
        status: d.status,
        forwarded: d.forwarded,
        bytes_in: d.bytesIn,
        bytes_out: d.bytesOut,
        upstream_ms: d.upstreamMs,
        total_ms: d.totalMs,
        credential_used_name: d.credential?.secretName ?? null,
        credential_used_version: d.credential?.secretVersion ?? null,
        completed_approval_id: d.approvalId,
        redactions: d.redactions,
        completion_error: json(d.error),
        completed_at: e.time,
        completed_event_id: e.id,
      };
      return;
    }
    case 'ApprovalRequested':
      actionWrite(plan, e.data).groups.approvalLink = { approval_id: e.data.approvalId };
      plan.ordered.push({ event: e, checkpoint });
      return;
    case 'ApprovalConsumed':
      actionWrite(plan, { ...e.data, actionId: e.data.releasedActionId }).groups.released = { released_by_approval_id: e.data.approvalId };
      plan.ordered.push({ event: e, checkpoint });
      return;
    default:
      plan.ordered.push({ event: e, checkpoint });
  }
}

function foldRequested(plan: ProjectionPlan, e: EventEnvelope<'ActionRequested'>): void {
  const d = e.data;
  const r = d.request;
  actionWrite(plan, d).groups.requested = {
    agent_name: d.agentName,
    ingress_id: d.ingressId,
    connection_id: d.connectionId,
    method: r.method,
    scheme: r.scheme,
    host: r.host,
    port: r.port,
    path: r.path,
    query: r.query,
    url: requestUrl(r),
    content_type: r.contentType,
    content_length: r.contentLength,
    body_digest: r.bodyDigest,
    body_truncated: r.bodyTruncated,
    user_agent: r.userAgent,
    action_type: d.action.type,
    action_parent: d.action.type.slice(0, d.action.type.lastIndexOf('.')),
    action_verb: d.action.type.slice(d.action.type.lastIndexOf('.') + 1),
    connector: d.action.connector,
    resource: d.action.resource,
    params: json(d.action.params),
    risk: d.action.risk,
    operation_id: d.action.operationId ?? null,
    classifier_notes: d.action.notes,
    classifier_version: d.classifierVersion,
    request_digest: d.requestDigest,
    requested_at: e.time,
    requested_event_id: e.id,
  };
  const a = plan.agents.get(d.agentId);
  if (a) {
    a.actions_total++;
    a.first_seen_at = earlier(a.first_seen_at, e.time)!;
    a.last_seen_at = later(a.last_seen_at, e.time)!;
  } else {
    plan.agents.set(d.agentId, { agent_id: d.agentId, agent_name: d.agentName, first_seen_at: e.time, last_seen_at: e.time, actions_total: 1 });
  }
  const run = runCounters(plan, d);
  run.actions_total++;
  run.first_action_at = earlier(run.first_action_at, e.time);
  run.last_action_at = later(run.last_action_at, e.time);
}
