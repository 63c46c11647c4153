import type { Kysely } from 'kysely';
import type { ReadModels } from '../db/connect.ts';
import { applyActionFilter, type ActionFilter, type ActionRow } from './actions.ts';

export interface TailOptions {
  filter?: ActionFilter;
  /** Start with the actions of the last this-many milliseconds (default 0: only new ones). */
  backlogMs?: number;
  pollMs?: number;
  /**
   * Actions can become visible slightly out of request-time order (events of concurrent writers,
   * or a decision projected before its request); each poll also sweeps this far behind the newest
   * action for ones it has not yielded yet (default 10 s).
   */
  overlapMs?: number;
  signal?: AbortSignal;
}

const PAGE = 1000;

/**
 * `tf audit tail`: yields each action once, as soon as its request is projected, until `signal`
 * aborts. Fields filled in later (decision, outcome) are not re-sent.
 */
export async function* tailActions(db: Kysely<ReadModels>, options: TailOptions = {}): AsyncGenerator<ActionRow> {
  const overlap = options.overlapMs ?? 10_000;
  const seen = new Map<string, number>();
  let cursor = { time: new Date(Date.now() - (options.backlogMs ?? 0)).toISOString(), id: '00000000-0000-0000-0000-000000000000' };
  const base = () => applyActionFilter(db.selectFrom('actions').selectAll(), options.filter ?? {});
  while (!options.signal?.aborted) {
    const main = await base()
      .where((eb) => eb(eb.refTuple('requested_at', 'action_id'), '>', eb.tuple(cursor.time, cursor.id)))
      .orderBy('requested_at')
      .orderBy('action_id')
      .limit(PAGE)
      .execute();
    for (const r of main) {
      cursor = { time: r.requested_at!, id: r.action_id };
      if (seen.has(r.action_id)) continue;
      seen.set(r.action_id, Date.parse(r.requested_at!));
      yield r;
    }
    const floor = Date.parse(cursor.time) - overlap;
    let late = base()
      .where('requested_at', '>=', new Date(floor).toISOString())
      .where((eb) => eb(eb.refTuple('requested_at', 'action_id'), '<', eb.tuple(cursor.time, cursor.id)));
    if (seen.size > 0) late = late.where('action_id', 'not in', [...seen.keys()]);
    for (const r of await late.orderBy('requested_at').orderBy('action_id').limit(PAGE).execute()) {
      seen.set(r.action_id, Date.parse(r.requested_at!));
      yield r;
    }
    for (const [id, t] of seen) if (t < floor) seen.delete(id);
    if (main.length === PAGE) continue;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, options.pollMs ?? 500);
      options.signal?.addEventListener('abort', () => {
        clearTimeout(t);
        resolve();
      }, { once: true });
    });
  }
}
