import type { Kysely, Selectable } from 'kysely';
import type { ReadModels } from '../db/connect.ts';
import type { CredentialUses } from '../db/types/read-models.ts';
import { nameFilter, timeRange, uuidFilter } from './filters.ts';
import { keysetPage, type Page, type PageArgs } from './page.ts';

export type CredentialUseRow = Selectable<CredentialUses>;

export interface CredentialUseFilter {
  secretName?: string | null;
  gatewayId?: string | null;
  agentId?: string | null;
  runId?: string | null;
  since?: string | null;
  until?: string | null;
}

/** Every release of a credential to an ingress, newest first: "everywhere secret X was used this week". */
export async function listCredentialUses(db: Kysely<ReadModels>, filter: CredentialUseFilter, page: PageArgs): Promise<Page<CredentialUseRow>> {
  const secret = nameFilter('secretName', filter.secretName);
  const gateway = nameFilter('gatewayId', filter.gatewayId);
  const agent = nameFilter('agentId', filter.agentId);
  const run = uuidFilter('runId', filter.runId);
  const { since, until } = timeRange(filter.since, filter.until);
  let base = db.selectFrom('credential_uses').selectAll();
  if (secret) base = base.where('secret_name', '=', secret);
  if (gateway) base = base.where('gateway_id', '=', gateway);
  if (agent) base = base.where('agent_id', '=', agent);
  if (run) base = base.where('run_id', '=', run);
  if (since) base = base.where('released_at', '>=', since);
  if (until) base = base.where('released_at', '<', until);
  return keysetPage(
    'credentials',
    page,
    (direction, from, limit) => {
      let q = base;
      if (from) q = q.where((eb) => eb(eb.refTuple('released_at', 'event_id'), direction === 'older' ? '<' : '>', eb.tuple(from.time, from.id)));
      const order = direction === 'older' ? 'desc' : 'asc';
      return q.orderBy('released_at', order).orderBy('event_id', order).limit(limit).execute();
    },
    (r) => ({ time: r.released_at, id: r.event_id }),
  );
}
