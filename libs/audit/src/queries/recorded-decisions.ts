import type { Kysely } from 'kysely';
import type { ReadModels } from '../db/connect.ts';
import { nameFilter, timeRange } from './filters.ts';
import type { ActionRow } from './actions.ts';

/** An action's request and decision as event envelopes, rebuilt from its read-model row. */
export interface RecordedDecisionPair {
  requested: unknown;
  decided: unknown;
}

export interface RecordedDecisionsOptions {
  /** Request time at or after (ISO 8601). */
  since: string;
  until?: string | null;
  gatewayId?: string | null;
  /** Stop after this many actions. */
  maxActions: number;
  pageSize?: number;
}

const metadata = (actionId: string) => ({ correlationId: actionId, causationId: null, traceparent: null, tracestate: null, source: 'audit@read-model' });

/**
 * Rebuilds the ActionRequested/ActionDecided envelopes of one action from its row: every field
 * the two events carry is kept in the row (metadata, which decisions never read, is not).
 */
export function decisionPairOf(r: ActionRow): RecordedDecisionPair | null {
  if (!r.requested_at || !r.requested_event_id || !r.decided_at || !r.decided_event_id) return null;
  const actor = { actionId: r.action_id, gatewayId: r.gateway_id, agentId: r.agent_id, runId: r.run_id };
  const action: Record<string, unknown> = {
    type: r.action_type,
    connector: r.connector,
    resource: r.resource,
    params: r.params,
    risk: r.risk,
    notes: r.classifier_notes ?? [],
  };
  if (r.operation_id !== null) action.operationId = r.operation_id;
  const decided: Record<string, unknown> = {
    ...actor,
    decision: r.decision,
    enforced: r.enforced,
    mode: r.mode,
    reason: r.reason,
    matchedRules: r.matched_rules ?? [],
    decidingRule: r.deciding_rule,
    policy: r.policy_version === null ? null : { version: r.policy_version, hash: r.policy_hash },
    decidedBy: r.decided_by,
    killSwitchId: r.kill_switch_id,
    inputDigest: r.input_digest,
    approval: r.approval_requirement,
    error: r.decision_error,
    evaluationMicros: r.evaluation_micros,
  };
  if (r.session_values !== null) decided.session = r.session_values;
  return {
    requested: {
      id: r.requested_event_id,
      type: 'ActionRequested',
      version: 1,
      time: r.requested_at,
      metadata: metadata(r.action_id),
      data: {
        ...actor,
        agentName: r.agent_name,
        ingressId: r.ingress_id,
        connectionId: r.connection_id,
        request: {
          method: r.method,
          scheme: r.scheme,
          host: r.host,
          port: r.port,
          path: r.path,
          query: r.query,
          contentType: r.content_type,
          contentLength: r.content_length === null ? null : Number(r.content_length),
          bodyDigest: r.body_digest,
          bodyTruncated: r.body_truncated,
          userAgent: r.user_agent,
        },
        action,
        classifierVersion: r.classifier_version,
        requestDigest: r.request_digest,
      },
    },
    decided: { id: r.decided_event_id, type: 'ActionDecided', version: 1, time: r.decided_at, metadata: metadata(r.action_id), data: decided },
  };
}

/**
 * Recorded decisions in request order (how the policy service saw them), for `policyBacktest`:
 * streams the actions read model page by page from `since`.
 */
export async function* recordedDecisions(db: Kysely<ReadModels>, options: RecordedDecisionsOptions): AsyncGenerator<RecordedDecisionPair> {
  const { since, until } = timeRange(options.since, options.until);
  const gateway = nameFilter('gatewayId', options.gatewayId);
  const pageSize = options.pageSize ?? 2000;
  let after: { time: string; id: string } | null = null;
  let n = 0;
  while (n < options.maxActions) {
    let q = db.selectFrom('actions').selectAll().where('requested_at', 'is not', null).where('decided_event_id', 'is not', null).where('requested_at', '>=', since!);
    if (until) q = q.where('requested_at', '<', until);
    if (gateway) q = q.where('gateway_id', '=', gateway);
    const from = after;
    if (from) q = q.where((eb) => eb(eb.refTuple('requested_at', 'action_id'), '>', eb.tuple(from.time, from.id)));
    const rows = await q.orderBy('requested_at').orderBy('action_id').limit(Math.min(pageSize, options.maxActions - n)).execute();
    if (rows.length === 0) return;
    for (const r of rows) {
      const pair = decisionPairOf(r);
      if (pair) {
        n++;
        yield pair;
      }
    }
    const last = rows[rows.length - 1]!;
    after = { time: last.requested_at!, id: last.action_id };
  }
}
