import type { Kysely, Selectable } from 'kysely';
import type { ReadModels } from '../db/connect.ts';
import type { KillSwitchAcks, KillSwitchChanges } from '../db/types/read-models.ts';
import { timeRange } from './filters.ts';
import { keysetPage, type Page, type PageArgs } from './page.ts';
import { AuditError, AuditErrorCode } from '../errors.ts';

export type KillSwitchChangeRow = Selectable<KillSwitchChanges>;
export type KillSwitchAckRow = Selectable<KillSwitchAcks>;

export interface KillSwitchFilter {
  /** `all`, `gateway.<id>`, `agent.<id>` or `connector.<id>`. */
  scopeKey?: string | null;
  since?: string | null;
  until?: string | null;
}

const SCOPE_KEY = /^(all|(gateway|agent|connector)\.[a-z0-9][a-z0-9_-]{0,62})$/;

/** Every engage and release, newest first. */
export async function listKillSwitchChanges(db: Kysely<ReadModels>, filter: KillSwitchFilter, page: PageArgs): Promise<Page<KillSwitchChangeRow>> {
  if (filter.scopeKey && !SCOPE_KEY.test(filter.scopeKey)) {
    throw new AuditError(AuditErrorCode.InvalidFilter, `invalid kill-switch scope ${JSON.stringify(filter.scopeKey.slice(0, 80))}: use all, gateway.<id>, agent.<id> or connector.<id>`);
  }
  const { since, until } = timeRange(filter.since, filter.until);
  let base = db.selectFrom('kill_switch_changes').selectAll();
  if (filter.scopeKey) base = base.where('scope_key', '=', filter.scopeKey);
  if (since) base = base.where('changed_at', '>=', since);
  if (until) base = base.where('changed_at', '<', until);
  return keysetPage(
    'killswitch',
    page,
    (direction, from, limit) => {
      let q = base;
      if (from) q = q.where((eb) => eb(eb.refTuple('changed_at', 'event_id'), direction === 'older' ? '<' : '>', eb.tuple(from.time, from.id)));
      const order = direction === 'older' ? 'desc' : 'asc';
      return q.orderBy('changed_at', order).orderBy('event_id', order).limit(limit).execute();
    },
    (r) => ({ time: r.changed_at, id: r.event_id }),
  );
}

/** The kill switches engaged now: the latest change of each scope, where that change is an engage. */
export async function activeKillSwitches(db: Kysely<ReadModels>): Promise<KillSwitchChangeRow[]> {
  const latest = await db
    .selectFrom('kill_switch_changes')
    .selectAll()
    .distinctOn('scope_key')
    .orderBy('scope_key')
    .orderBy('changed_at', 'desc')
    .orderBy('event_id', 'desc')
    .execute();
  return latest.filter((r) => r.state === 'engaged');
}

/** Acknowledgements by ingress replicas, keyed by `${killSwitchId}|${state}`. */
export async function acksOf(db: Kysely<ReadModels>, changes: readonly { kill_switch_id: string; state: string }[]): Promise<Map<string, KillSwitchAckRow[]>> {
  const out = new Map<string, KillSwitchAckRow[]>(changes.map((c) => [`${c.kill_switch_id}|${c.state}`, []]));
  const ids = [...new Set(changes.map((c) => c.kill_switch_id))];
  if (ids.length === 0) return out;
  const rows = await db.selectFrom('kill_switch_acks').selectAll().where('kill_switch_id', 'in', ids).orderBy('acknowledged_at').orderBy('ingress_id').execute();
  for (const r of rows) out.get(`${r.kill_switch_id}|${r.state}`)?.push(r);
  return out;
}
