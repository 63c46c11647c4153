import { sql, type Kysely, type Selectable, type SelectQueryBuilder } from 'kysely';
import type { ReadModels } from '../db/connect.ts';
import type { Actions } from '../db/types/read-models.ts';
import { nameFilter, oneOf, timeRange, uuidFilter } from './filters.ts';
import { globToSql } from './glob-sql.ts';
import { keysetPage, type Page, type PageArgs } from './page.ts';

export type ActionRow = Selectable<Actions>;

export const DECISIONS = ['allow', 'deny', 'require_approval'] as const;
export const OUTCOMES = ['completed', 'upstream_error', 'client_aborted', 'killed', 'denied', 'approval_denied', 'approval_expired', 'unavailable'] as const;
export const RISKS = ['read', 'write', 'destructive'] as const;

/** Filters of the actions list. Every field narrows; absent fields do not. */
export interface ActionFilter {
  agentId?: string | null;
  runId?: string | null;
  gatewayId?: string | null;
  connector?: string | null;
  /** Glob over action types: `github.repo.*`, `stripe.**`, `*.delete`. */
  actionType?: string | null;
  decision?: readonly string[] | null;
  outcome?: readonly string[] | null;
  risk?: readonly string[] | null;
  /** Request time at or after (ISO 8601). */
  since?: string | null;
  /** Request time before (ISO 8601). */
  until?: string | null;
  /** Glob over resources (`acme/*`, `acme/**`). */
  resource?: string | null;
  /** Secret name of the credential injected. */
  secretName?: string | null;
}


/**
 * Applies a validated filter to an actions query.
 *
 * @throws AuditError `TF_ERR_AUDIT_INVALID_FILTER` naming the bad field.
 */
export function applyActionFilter<O>(q: SelectQueryBuilder<ReadModels, 'actions', O>, f: ActionFilter): SelectQueryBuilder<ReadModels, 'actions', O> {
  const agent = nameFilter('agentId', f.agentId);
  const run = uuidFilter('runId', f.runId);
  const gateway = nameFilter('gatewayId', f.gatewayId);
  const connector = nameFilter('connector', f.connector);
  const decision = oneOf('decision', DECISIONS, f.decision);
  const outcome = oneOf('outcome', OUTCOMES, f.outcome);
  const risk = oneOf('risk', RISKS, f.risk);
  const secret = nameFilter('secretName', f.secretName);
  const { since, until } = timeRange(f.since, f.until);
  q = q.where('requested_at', 'is not', null);
  if (agent) q = q.where('agent_id', '=', agent);
  if (run) q = q.where('run_id', '=', run);
  if (gateway) q = q.where('gateway_id', '=', gateway);
  if (connector) q = q.where('connector', '=', connector);
  if (decision) q = decision.length === 1 ? q.where('decision', '=', decision[0]!) : q.where('decision', 'in', decision);
  if (outcome) q = q.where('outcome', 'in', outcome);
  if (risk) q = q.where('risk', 'in', risk);
  if (secret) q = q.where('credential_secret_name', '=', secret);
  if (since) q = q.where('requested_at', '>=', since);
  if (until) q = q.where('requested_at', '<', until);
  if (f.actionType) {
    const g = globToSql(f.actionType, 'action');
    if (g.literal !== null) q = q.where('action_type', '=', g.literal);
    else if (g.parent !== null) q = q.where('action_parent', '=', g.parent);
    else if (g.verb !== null) q = q.where('action_verb', '=', g.verb);
    else {
      if (g.likePrefix) q = q.where('action_type', 'like', g.likePrefix);
      if (!g.likeIsExact) q = q.where(sql<boolean>`action_type ~ ${g.regex}`);
    }
  }
  if (f.resource) {
    const g = globToSql(f.resource, 'resource');
    if (g.literal !== null) q = q.where('resource', '=', g.literal);
    else {
      if (g.likePrefix) q = q.where('resource', 'like', g.likePrefix);
      if (!g.likeIsExact) q = q.where(sql<boolean>`resource ~ ${g.regex}`);
    }
  }
  return q;
}

/** One page of actions, newest request first, keyset-paginated on `(requested_at, action_id)`. */
export async function listActions(db: Kysely<ReadModels>, filter: ActionFilter, page: PageArgs): Promise<Page<ActionRow>> {
  const base = applyActionFilter(db.selectFrom('actions').selectAll(), filter);
  return keysetPage(
    'actions',
    page,
    (direction, from, limit) => {
      let q = base;
      if (from) {
        q = q.where((eb) => eb(eb.refTuple('requested_at', 'action_id'), direction === 'older' ? '<' : '>', eb.tuple(from.time, from.id)));
      }
      const order = direction === 'older' ? 'desc' : 'asc';
      return q.orderBy('requested_at', order).orderBy('action_id', order).limit(limit).execute();
    },
    (r) => ({ time: r.requested_at!, id: r.action_id }),
  );
}

/** Actions by id, in the order asked (missing ones are null). */
export async function actionsByIds(db: Kysely<ReadModels>, ids: readonly string[]): Promise<(ActionRow | null)[]> {
  const valid = ids.filter((id) => uuidFilter('id', id) !== null);
  if (valid.length === 0) return [];
  const rows = await db.selectFrom('actions').selectAll().where('action_id', 'in', valid).execute();
  const byId = new Map(rows.map((r) => [r.action_id, r]));
  return ids.map((id) => byId.get(id) ?? null);
}

/** How many actions match a filter, stopping at `cap` (counting a million rows for a badge is not worth it). */
export async function countActions(db: Kysely<ReadModels>, filter: ActionFilter, cap = 10_000): Promise<{ count: number; capped: boolean }> {
  const inner = applyActionFilter(db.selectFrom('actions').select('action_id'), filter).limit(cap + 1);
  const row = await db.selectFrom(inner.as('m')).select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
  const n = Number(row.n);
  return { count: Math.min(n, cap), capped: n > cap };
}
