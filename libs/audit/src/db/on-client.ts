import { Kysely, PostgresDialect } from 'kysely';
import type pg from 'pg';

/** Anything that runs a parameterised query: a pg Pool, Client or PoolClient (the event store's `Queryable`). */
export interface Queryable {
  query(config: { text: string; values?: unknown[]; name?: string }): Promise<{ rows: any[]; rowCount: number | null }>;
}

/**
 * A Kysely instance whose every query runs on one already-connected client, so typed queries and
 * the event store's checkpoint save share the caller's transaction. Releasing is the caller's job.
 */
export function kyselyOnClient<DB>(client: pg.ClientBase): Kysely<DB> {
  const borrowed = {
    query: client.query.bind(client),
    release: () => undefined,
  };
  return new Kysely<DB>({
    dialect: new PostgresDialect({
      pool: { connect: async () => borrowed as unknown as pg.PoolClient, end: async () => undefined, options: {} },
    }),
  });
}
