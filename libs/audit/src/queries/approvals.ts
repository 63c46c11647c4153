import type { Kysely, Selectable } from 'kysely';
import type { ReadModels } from '../db/connect.ts';
import type { Approvals, ApprovalVotes } from '../db/types/read-models.ts';
import { nameFilter, oneOf, timeRange, uuidFilter } from './filters.ts';
import { keysetPage, type Page, type PageArgs } from './page.ts';

export type ApprovalRow = Selectable<Approvals>;
export type ApprovalVoteRow = Selectable<ApprovalVotes>;

export const APPROVAL_STATUSES = ['pending', 'granted', 'denied', 'expired', 'cancelled', 'consumed'] as const;

export interface ApprovalFilter {
  status?: readonly string[] | null;
  gatewayId?: string | null;
  agentId?: string | null;
  runId?: string | null;
  since?: string | null;
  until?: string | null;
}

/**
 * Approvals, newest request first. `pending` means no decision was recorded yet; one whose
 * `expires_at` has passed is about to be expired by the approval service.
 */
export async function listApprovals(db: Kysely<ReadModels>, filter: ApprovalFilter, page: PageArgs): Promise<Page<ApprovalRow>> {
  const status = oneOf('status', APPROVAL_STATUSES, filter.status);
  const gateway = nameFilter('gatewayId', filter.gatewayId);
  const agent = nameFilter('agentId', filter.agentId);
  const run = uuidFilter('runId', filter.runId);
  const { since, until } = timeRange(filter.since, filter.until);
  let base = db.selectFrom('approvals').selectAll();
  if (status) base = status.length === 1 ? base.where('status', '=', status[0]!) : base.where('status', 'in', status);
  if (gateway) base = base.where('gateway_id', '=', gateway);
  if (agent) base = base.where('agent_id', '=', agent);
  if (run) base = base.where('run_id', '=', run);
  if (since) base = base.where('requested_at', '>=', since);
  if (until) base = base.where('requested_at', '<', until);
  return keysetPage(
    'approvals',
    page,
    (direction, from, limit) => {
      let q = base;
      if (from) q = q.where((eb) => eb(eb.refTuple('requested_at', 'approval_id'), direction === 'older' ? '<' : '>', eb.tuple(from.time, from.id)));
      const order = direction === 'older' ? 'desc' : 'asc';
      return q.orderBy('requested_at', order).orderBy('approval_id', order).limit(limit).execute();
    },
    (r) => ({ time: r.requested_at, id: r.approval_id }),
  );
}

export async function getApproval(db: Kysely<ReadModels>, approvalId: string): Promise<ApprovalRow | null> {
  const id = uuidFilter('approvalId', approvalId)!;
  return (await db.selectFrom('approvals').selectAll().where('approval_id', '=', id).executeTakeFirst()) ?? null;
}

/** Votes (recorded and refused) of several approvals, oldest first, grouped by approval id. */
export async function votesOf(db: Kysely<ReadModels>, approvalIds: readonly string[]): Promise<Map<string, ApprovalVoteRow[]>> {
  const out = new Map<string, ApprovalVoteRow[]>(approvalIds.map((id) => [id, []]));
  if (approvalIds.length === 0) return out;
  const rows = await db
    .selectFrom('approval_votes')
    .selectAll()
    .where('approval_id', 'in', [...approvalIds])
    .orderBy('approval_id')
    .orderBy('voted_at')
    .orderBy('event_id')
    .execute();
  for (const r of rows) out.get(r.approval_id)?.push(r);
  return out;
}
