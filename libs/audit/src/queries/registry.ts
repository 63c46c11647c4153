import type { Kysely, Selectable } from 'kysely';
import type { ReadModels } from '../db/connect.ts';
import type { ApiTokens, Connectors, Gateways, Secrets } from '../db/types/read-models.ts';
import { nameFilter } from './filters.ts';

export type GatewayRow = Selectable<Gateways>;
export type ConnectorRow = Selectable<Connectors>;
export type SecretRow = Selectable<Secrets>;
export type ApiTokenRow = Selectable<ApiTokens>;

/** Gateways with the latest published policy version of each. */
export async function listGateways(db: Kysely<ReadModels>): Promise<(GatewayRow & { policy_version: number | null })[]> {
  return db
    .selectFrom('gateways as g')
    .selectAll('g')
    .select((eb) =>
      eb.selectFrom('policy_versions as p').whereRef('p.gateway_id', '=', 'g.gateway_id').select((e) => e.fn.max('p.version').as('v')).as('policy_version'),
    )
    .orderBy('g.gateway_id')
    .execute() as Promise<(GatewayRow & { policy_version: number | null })[]>;
}

/** Connectors (including removed ones, which have `removed_at`), by gateway then id. */
export async function listConnectors(db: Kysely<ReadModels>, gatewayId: string | null): Promise<ConnectorRow[]> {
  const gateway = nameFilter('gatewayId', gatewayId);
  let q = db.selectFrom('connectors').selectAll();
  if (gateway) q = q.where('gateway_id', '=', gateway);
  return q.orderBy('gateway_id').orderBy('connector_id').execute();
}

/** Secret metadata (never a value), by gateway then name. */
export async function listSecrets(db: Kysely<ReadModels>, gatewayId: string | null): Promise<SecretRow[]> {
  const gateway = nameFilter('gatewayId', gatewayId);
  let q = db.selectFrom('secrets').selectAll();
  if (gateway) q = q.where('gateway_id', '=', gateway);
  return q.orderBy('gateway_id').orderBy('name').execute();
}

/** API tokens (names and roles; the tokens themselves are never recorded). */
export async function listApiTokens(db: Kysely<ReadModels>): Promise<ApiTokenRow[]> {
  return db.selectFrom('api_tokens').selectAll().orderBy('issued_at').orderBy('token_id').execute();
}
