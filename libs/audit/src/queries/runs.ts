import { sql, type Kysely, type Selectable } from 'kysely';
import type { ReadModels } from '../db/connect.ts';
import type { AgentRuns, Agents } from '../db/types/read-models.ts';
import { nameFilter, timeRange, uuidFilter } from './filters.ts';
import { keysetPage, type Page, type PageArgs } from './page.ts';

export type RunRow = Selectable<AgentRuns> & { sort_at: string };
export type AgentRow = Selectable<Agents>;

export interface RunFilter {
  agentId?: string | null;
  gatewayId?: string | null;
  /** true: runs with no AgentRunEnded yet; false: ended runs. */
  active?: boolean | null;
  since?: string | null;
  until?: string | null;
}

const sortAt = sql<string>`coalesce(started_at, first_action_at)`;

/** Agent runs, newest first (by start, or by first action for a run whose start was not recorded), with counts by decision. */
export async function listRuns(db: Kysely<ReadModels>, filter: RunFilter, page: PageArgs): Promise<Page<RunRow>> {
  const agent = nameFilter('agentId', filter.agentId);
  const gateway = nameFilter('gatewayId', filter.gatewayId);
  const { since, until } = timeRange(filter.since, filter.until);
  let base = db.selectFrom('agent_runs').selectAll().select(sortAt.as('sort_at')).where(sortAt, 'is not', null);
  if (agent) base = base.where('agent_id', '=', agent);
  if (gateway) base = base.where('gateway_id', '=', gateway);
  if (filter.active === true) base = base.where('ended_at', 'is', null);
  if (filter.active === false) base = base.where('ended_at', 'is not', null);
  if (since) base = base.where(sortAt, '>=', since);
  if (until) base = base.where(sortAt, '<', until);
  return keysetPage(
    'runs',
    page,
    (direction, from, limit) => {
      let q = base;
      if (from) q = q.where((eb) => eb(eb.tuple(sortAt, eb.ref('run_id')), direction === 'older' ? '<' : '>', eb.tuple(from.time, from.id)));
      const order = direction === 'older' ? 'desc' : 'asc';
      return q.orderBy(sortAt, order).orderBy('run_id', order).limit(limit).execute();
    },
    (r) => ({ time: r.sort_at, id: r.run_id }),
  );
}

export async function getRun(db: Kysely<ReadModels>, runId: string): Promise<RunRow | null> {
  const id = uuidFilter('runId', runId)!;
  return (await db.selectFrom('agent_runs').selectAll().select(sortAt.as('sort_at')).where('run_id', '=', id).executeTakeFirst()) ?? null;
}

/** Agents, most recently seen first. */
export async function listAgents(db: Kysely<ReadModels>, page: PageArgs): Promise<Page<AgentRow>> {
  return keysetPage(
    'agents',
    page,
    (direction, from, limit) => {
      let q = db.selectFrom('agents').selectAll();
      if (from) q = q.where((eb) => eb(eb.refTuple('last_seen_at', 'agent_id'), direction === 'older' ? '<' : '>', eb.tuple(from.time, from.id)));
      const order = direction === 'older' ? 'desc' : 'asc';
      return q.orderBy('last_seen_at', order).orderBy('agent_id', order).limit(limit).execute();
    },
    (r) => ({ time: r.last_seen_at, id: r.agent_id }),
  );
}

export async function getAgent(db: Kysely<ReadModels>, agentId: string): Promise<AgentRow | null> {
  const id = nameFilter('agentId', agentId)!;
  return (await db.selectFrom('agents').selectAll().where('agent_id', '=', id).executeTakeFirst()) ?? null;
}
