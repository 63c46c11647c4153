import { Kysely, PostgresDialect } from 'kysely';
import type pg from 'pg';
import { createPostgresEventStore, type PostgresEventStore } from '@tameflare/event-store';
import { createTestDatabase, type TestDatabase } from '@tameflare/testing';
import type { TameFlareEvent } from '@tameflare/contracts';
import { createAuditPool, opsDb, readModelDb, type OpsTables, type ReadModels } from '../db/connect.ts';
import { migrateOps, migrateReadModels } from '../db/migrate.ts';

/** A fresh database with the event store and the audit schemas, for one test file. */
export interface AuditTestEnv {
  database: TestDatabase;
  store: PostgresEventStore;
  pool: pg.Pool;
  db: Kysely<ReadModels>;
  ops: Kysely<OpsTables>;
  /** Appends each action's (or any) events idempotently, as the recorder does. */
  record(events: TameFlareEvent[]): Promise<void>;
  dispose(): Promise<void>;
}

export async function createAuditTestEnv(prefix: string): Promise<AuditTestEnv> {
  const database = await createTestDatabase(prefix);
  const store = createPostgresEventStore({ connectionString: database.url, pollIntervalMs: 100 });
  await store.migrate();
  const pool = createAuditPool({ connectionString: database.url, max: 8 });
  const k = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
  await migrateReadModels(k);
  await migrateOps(k);
  return {
    database,
    store,
    pool,
    db: readModelDb(pool),
    ops: opsDb(pool),
    record: async (events) => {
      await store.appendIdempotent(events);
    },
    dispose: async () => {
      await store.close();
      await pool.end();
      await database.drop();
    },
  };
}

/**
 * Waits until `current()` equals the store's last checkpoint. Generous: the store's snapshot
 * barrier is cluster-wide, so a long transaction anywhere on the server delays every subscriber.
 */
export async function caughtUp(store: PostgresEventStore, current: () => string | null, timeoutMs = 60_000): Promise<string | null> {
  const deadline = Date.now() + timeoutMs;
  const readHead = async () => {
    let after: string | null = null;
    for (;;) {
      const page = await store.readAll({ after, limit: 10_000 });
      if (page.length === 0) return after;
      after = page[page.length - 1]!.checkpoint;
    }
  };
  // Checkpoints are zero-padded, so string order is log order. The head is read twice: the
  // snapshot barrier may hide the newest committed events for a moment.
  let stable = 0;
  let last: string | null = null;
  for (;;) {
    const head = await readHead();
    const at = current();
    stable = head === last && (at ?? '') >= (head ?? '') ? stable + 1 : 0;
    last = head;
    if (stable >= 2) return head;
    if (Date.now() > deadline) throw new Error(`projection did not catch up to ${head} (at ${at})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
