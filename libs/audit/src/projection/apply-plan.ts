import { sql, type Kysely } from 'kysely';
import type { ReadModels } from '../db/connect.ts';
import { assertSchemaName } from '../db/schemas.ts';
import { AuditError, AuditErrorCode, isAuditInputError } from '../errors.ts';
import {
  actionGroupColumns,
  actionGroups,
  actionIdentityColumns,
  agentTouchColumns,
  credentialUseColumns,
  decisionCountColumns,
  runCounterColumns,
} from './action-columns.ts';
import { applyOrdered } from './apply-ordered.ts';
import type { ActionGroup, ActionWrite, ProjectionPlan } from './fold-batch.ts';
import { setFromExcluded, unnestInsert } from './unnest-insert.ts';

const byKey = <T>(m: Map<string, T>): T[] => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);

/**
 * Writes a folded batch into the read models of `schema`, inside the caller's transaction.
 * Low-rate events go first, in log order; then one set-based upsert per kind of action write
 * (rows grouped by which column groups they carry, so an upsert never touches a group the batch
 * did not see), credential uses, and the additive counters.
 *
 * @throws AuditError `TF_ERR_AUDIT_PROJECTION` when an ordered event cannot be applied.
 */
export async function applyPlan(db: Kysely<ReadModels>, schema: string, plan: ProjectionPlan): Promise<void> {
  assertSchemaName(schema);
  const scoped = db.withSchema(schema);
  for (const w of plan.ordered) {
    try {
      await applyOrdered(scoped, w.event);
    } catch (cause) {
      if (cause instanceof AuditError) throw cause;
      throw new AuditError(AuditErrorCode.Projection, `cannot apply event ${w.event.id} (${w.event.type}) at ${w.checkpoint}: ${(cause as Error).message}`, {
        cause,
        details: { eventId: w.event.id, eventType: w.event.type, checkpoint: w.checkpoint },
      });
    }
  }

  const bySignature = new Map<string, { groups: ActionGroup[]; rows: Record<string, unknown>[] }>();
  for (const w of byKey(plan.actions)) {
    const groups = actionGroups.filter((g) => w.groups[g] !== undefined);
    const key = groups.join(',');
    let entry = bySignature.get(key);
    if (!entry) bySignature.set(key, (entry = { groups, rows: [] }));
    entry.rows.push(flatten(w));
  }
  for (const key of [...bySignature.keys()].sort()) {
    const { groups, rows } = bySignature.get(key)!;
    const groupCols = groups.flatMap((g) => actionGroupColumns[g]);
    await unnestInsert(
      db,
      schema,
      'actions',
      [...actionIdentityColumns, ...groupCols],
      rows,
      sql`ON CONFLICT (action_id) DO UPDATE SET ${setFromExcluded(groupCols.map((c) => c.name))}`,
    );
  }

  await unnestInsert(db, schema, 'credential_uses', credentialUseColumns, plan.credentialUses);

  await unnestInsert(
    db,
    schema,
    'agents',
    agentTouchColumns,
    byKey(plan.agents) as unknown as Record<string, unknown>[],
    sql`ON CONFLICT (agent_id) DO UPDATE SET
      agent_name = COALESCE(agents.agent_name, EXCLUDED.agent_name),
      first_seen_at = LEAST(agents.first_seen_at, EXCLUDED.first_seen_at),
      last_seen_at = GREATEST(agents.last_seen_at, EXCLUDED.last_seen_at),
      actions_total = agents.actions_total + EXCLUDED.actions_total`,
  );

  await unnestInsert(
    db,
    schema,
    'agent_runs',
    runCounterColumns,
    byKey(plan.runs) as unknown as Record<string, unknown>[],
    sql`ON CONFLICT (run_id) DO UPDATE SET
      first_action_at = LEAST(agent_runs.first_action_at, EXCLUDED.first_action_at),
      last_action_at = GREATEST(agent_runs.last_action_at, EXCLUDED.last_action_at),
      actions_total = agent_runs.actions_total + EXCLUDED.actions_total,
      decisions_allow = agent_runs.decisions_allow + EXCLUDED.decisions_allow,
      decisions_deny = agent_runs.decisions_deny + EXCLUDED.decisions_deny,
      decisions_require_approval = agent_runs.decisions_require_approval + EXCLUDED.decisions_require_approval`,
  );

  const counts = [...plan.decisionCounts.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, count]) => {
    const [bucket, gateway_id, decision] = k.split('|');
    return { bucket, gateway_id, decision, count };
  });
  await unnestInsert(
    db,
    schema,
    'decision_counts',
    decisionCountColumns,
    counts,
    sql`ON CONFLICT (bucket, gateway_id, decision) DO UPDATE SET count = decision_counts.count + EXCLUDED.count`,
  );
}

function flatten(w: ActionWrite): Record<string, unknown> {
  const row: Record<string, unknown> = { ...w.identity };
  for (const g of actionGroups) Object.assign(row, w.groups[g]);
  return row;
}

/** True for errors that mean "this event cannot be applied" rather than "the database is unreachable". */
export function isPermanentProjectionError(err: unknown): boolean {
  if (err instanceof AuditError) return err.code === AuditErrorCode.Projection || isAuditInputError(err);
  const code = (err as { code?: unknown })?.code;
  // SQLSTATE classes 22 (data exception) and 23 (integrity constraint violation).
  return typeof code === 'string' && /^(22|23)/.test(code);
}
