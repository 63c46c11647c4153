import type { Kysely, Selectable } from 'kysely';
import type { ReadModels } from '../db/connect.ts';
import type { PolicyVersions } from '../db/types/read-models.ts';
import { nameFilter } from './filters.ts';
import { keysetPage, type Page, type PageArgs } from './page.ts';

export type PolicyVersionRow = Selectable<PolicyVersions>;

/** Published policy versions of a gateway (or of all), newest first, with their YAML source. */
export async function listPolicyVersions(db: Kysely<ReadModels>, gatewayId: string | null, page: PageArgs): Promise<Page<PolicyVersionRow>> {
  const gateway = nameFilter('gatewayId', gatewayId);
  let base = db.selectFrom('policy_versions').selectAll();
  if (gateway) base = base.where('gateway_id', '=', gateway);
  return keysetPage(
    'policies',
    page,
    (direction, from, limit) => {
      let q = base;
      if (from) {
        const [g, v] = from.id.split(':');
        q = q.where((eb) =>
          eb(eb.refTuple('published_at', 'gateway_id', 'version'), direction === 'older' ? '<' : '>', eb.tuple(from.time, g ?? '', Number(v ?? 0))),
        );
      }
      const order = direction === 'older' ? 'desc' : 'asc';
      return q.orderBy('published_at', order).orderBy('gateway_id', order).orderBy('version', order).limit(limit).execute();
    },
    (r) => ({ time: r.published_at, id: `${r.gateway_id}:${r.version}` }),
  );
}

export async function getPolicyVersion(db: Kysely<ReadModels>, gatewayId: string, version: number): Promise<PolicyVersionRow | null> {
  const gateway = nameFilter('gatewayId', gatewayId)!;
  return (await db.selectFrom('policy_versions').selectAll().where('gateway_id', '=', gateway).where('version', '=', version).executeTakeFirst()) ?? null;
}
