import type { Kysely } from 'kysely';
import {
  acksOf,
  votesOf,
  type ActionRow,
  type ApprovalRow,
  type ApprovalVoteRow,
  type KillSwitchAckRow,
  type OpsTables,
  type PolicyVersionRow,
  type ReadModels,
  type RunRow,
} from '@tameflare/audit';
import type { Bus } from '@tameflare/messaging';
import type { Principal } from '../auth/roles.ts';
import { createLoader, type Loader } from './loader.ts';

export interface Loaders {
  action: Loader<string, ActionRow | null>;
  approval: Loader<string, ApprovalRow | null>;
  run: Loader<string, RunRow | null>;
  votes: Loader<string, ApprovalVoteRow[]>;
  acks: Loader<string, KillSwitchAckRow[]>;
  policy: Loader<string, PolicyVersionRow | null>;
}

/** Everything a resolver may use, built once per request (or per subscription). */
export interface AuditContext {
  principal: Principal;
  db: Kysely<ReadModels>;
  ops: Kysely<OpsTables>;
  bus: Bus;
  loaders: Loaders;
  backtest: { maxActions: number; run<T>(work: () => Promise<T>): Promise<T> };
}

const sortAt = (r: { started_at: string | null; first_action_at: string | null }) => r.started_at ?? r.first_action_at ?? '';

export function createLoaders(db: Kysely<ReadModels>): Loaders {
  return {
    action: createLoader(async (ids) => new Map((await db.selectFrom('actions').selectAll().where('action_id', 'in', [...ids]).execute()).map((r) => [r.action_id, r])), null),
    approval: createLoader(async (ids) => new Map((await db.selectFrom('approvals').selectAll().where('approval_id', 'in', [...ids]).execute()).map((r) => [r.approval_id, r])), null),
    run: createLoader(
      async (ids) => new Map((await db.selectFrom('agent_runs').selectAll().where('run_id', 'in', [...ids]).execute()).map((r) => [r.run_id, { ...r, sort_at: sortAt(r) }])),
      null,
    ),
    votes: createLoader((ids) => votesOf(db, ids), []),
    acks: createLoader(async (keys) => {
      const changes = keys.map((k) => {
        const [kill_switch_id, state] = k.split('|');
        return { kill_switch_id: kill_switch_id!, state: state! };
      });
      return acksOf(db, changes);
    }, []),
    policy: createLoader(async (keys) => {
      const pairs = keys.map((k) => k.split('@'));
      const rows = await db
        .selectFrom('policy_versions')
        .selectAll()
        .where((eb) => eb.or(pairs.map(([g, v]) => eb.and([eb('gateway_id', '=', g!), eb('version', '=', Number(v))]))))
        .execute();
      return new Map(rows.map((r) => [`${r.gateway_id}@${r.version}`, r]));
    }, null),
  };
}
