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
  /** How many events `record` stored so far. */
  readonly recorded: number;
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
  let recorded = 0;
  return {
    get recorded() {
      return recorded;
    },
    database,
    store,
    pool,
    db: readModelDb(pool),
    ops: opsDb(pool),
    record: async (events) => {
      // Await first: `recorded += await ...` would read `recorded` before the await and lose concurrent writers' counts.
      const { appended } = await store.appendIdempotent(events);
      recorded += appended;
    },
    dispose: async () => {
      await store.close();
      await pool.end();
      await database.drop();
    },
  };
}

/**
 * Waits until every event `record` stored is readable and `current()` (a processor's checkpoint)
 * has reached the last one. Generous: the store's snapshot barrier is cluster-wide, so a long
 * transaction anywhere on the server (another test suite) hides new events for a while.
 */
export async function caughtUp(env: Pick<AuditTestEnv, 'store' | 'recorded'>, current: () => string | null, timeoutMs = 120_000): Promise<string | null> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let head: string | null = null;
    let readable = 0;
    for (;;) {
      const page = await env.store.readAll({ after: head, limit: 10_000 });
      if (page.length === 0) break;
      readable += page.length;
      head = page[page.length - 1]!.checkpoint;
    }
    const at = current();
    // Checkpoints are zero-padded, so string order is log order.
    if (readable >= env.recorded && head !== null && (at ?? '') >= head) return head;
    if (Date.now() > deadline) throw new Error(`not caught up: ${readable}/${env.recorded} events readable, head ${head}, processor at ${at}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
