import { Kysely, PostgresDialect, sql } from 'kysely';
import type pg from 'pg';
import { migrateOps, migrateReadModels } from '../db/migrate.ts';
import { assertSchemaName, OPS_SCHEMA, READ_MODEL_SCHEMA, REBUILD_SCHEMA } from '../db/schemas.ts';
import { AuditError, AuditErrorCode } from '../errors.ts';
import { applyEvents, applyPlanInTransaction, projectBatch, projectIsolating, type CheckpointStore, type StoredEvent } from '../projection/project-batch.ts';
import { foldBatch, type ProjectionPlan } from '../projection/fold-batch.ts';

/** The read-model processor's id in the event store's checkpoint table. */
export const READ_MODEL_PROCESSOR_ID = 'audit-read-models';

/** The page reader replay needs (the `EventStore` port satisfies it). */
export interface ReplaySource {
  readAll(options: { after: string | null; limit: number }): Promise<readonly StoredEvent[]>;
}

export interface ReplayProgress {
  phase: 'rebuild' | 'catch-up' | 'swap' | 'done';
  events: number;
  elapsedMs: number;
  eventsPerSecond: number;
  checkpoint: string | null;
}

export interface RebuildOptions {
  pool: pg.Pool;
  store: ReplaySource;
  /** Schema to build into (default `audit_rebuild`); dropped and recreated first. */
  schema?: string;
  /** Events per transaction (default 10,000, the store's largest page). */
  batchSize?: number;
  onProgress?: (p: ReplayProgress) => void;
  /** How often to report progress (default every 1 s). */
  progressEveryMs?: number;
}

export interface RebuildResult {
  schema: string;
  events: number;
  checkpoint: string | null;
  elapsedMs: number;
}

export interface ReplayOptions extends RebuildOptions {
  checkpoints: CheckpointStore;
  /** The live read-model processor (default `audit-read-models`). */
  processorId?: string;
  /** Orders two checkpoints of the store (default: string order, which the PostgreSQL adapter guarantees). */
  compareCheckpoints?: (a: string | null, b: string | null) => number;
}

const defaultCompare = (a: string | null, b: string | null) => (a === b ? 0 : a === null ? -1 : b === null ? 1 : a < b ? -1 : 1);

async function withReplayLock<T>(pool: pg.Pool, work: () => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    const { rows } = await client.query(`SELECT pg_try_advisory_lock(hashtext('tameflare.audit.replay')) AS ok`);
    if (rows[0]?.ok !== true) throw new AuditError(AuditErrorCode.Replay, 'another replay is running against this database');
    try {
      return await work();
    } finally {
      await client.query(`SELECT pg_advisory_unlock(hashtext('tameflare.audit.replay'))`).catch(() => undefined);
    }
  } finally {
    client.release();
  }
}

/**
 * Builds every read model from the first event of the store into a fresh schema, without touching
 * the live ones. Deterministic: the result is byte-identical to the live projection at the same
 * checkpoint (compare with {@link dumpReadModels}).
 */
export async function rebuildReadModels(options: RebuildOptions): Promise<RebuildResult> {
  return withReplayLock(options.pool, () => rebuildUnlocked(options));
}

async function rebuildUnlocked(options: RebuildOptions): Promise<RebuildResult> {
  const schema = assertSchemaName(options.schema ?? REBUILD_SCHEMA);
  if (schema === READ_MODEL_SCHEMA) throw new AuditError(AuditErrorCode.Replay, `refusing to rebuild into the live schema "${schema}"`);
  const batchSize = options.batchSize ?? 10_000;
  const started = Date.now();
  const db = new Kysely<any>({ dialect: new PostgresDialect({ pool: options.pool }) });
  await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(db);
  await migrateReadModels(db, schema);
  await migrateOps(db);

  let after: string | null = null;
  let events = 0;
  let lastReport = 0;
  const report = (phase: ReplayProgress['phase']) => {
    const elapsedMs = Date.now() - started;
    options.onProgress?.({ phase, events, elapsedMs, eventsPerSecond: elapsedMs > 0 ? Math.round((events * 1000) / elapsedMs) : 0, checkpoint: after });
  };
  const client = await options.pool.connect();
  // A bulk load: secondary indexes are built once at the end (far cheaper than maintaining them
  // row by row), and commits need not wait for the WAL flush since a crashed rebuild starts over.
  await client.query(`SET synchronous_commit = off`);
  await client.query(`SET maintenance_work_mem = '256MB'`);
  const { rows: indexes } = await client.query<{ name: string; def: string }>(
    `SELECT i.indexname AS name, i.indexdef AS def FROM pg_indexes i
     JOIN pg_class c ON c.relname = i.indexname JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = i.schemaname
     JOIN pg_index x ON x.indexrelid = c.oid
     WHERE i.schemaname = $1 AND NOT x.indisprimary AND NOT x.indisunique`,
    [schema],
  );
  for (const ix of indexes) await client.query(`DROP INDEX "${schema}"."${ix.name}"`);
  try {
    // A pipeline: the next page is read and folded (CPU here) while PostgreSQL applies this one.
    const readFolded = (from: string | null) =>
      options.store.readAll({ after: from, limit: batchSize }).then((page) => {
        let plan: ProjectionPlan | null = null;
        try {
          plan = page.length ? foldBatch(page.map((e) => ({ envelope: e.event, checkpoint: e.checkpoint }))) : null;
        } catch {
          plan = null;
        }
        return { page, plan };
      });
    let next = readFolded(after);
    for (;;) {
      const { page, plan } = await next;
      if (page.length === 0) break;
      next = readFolded(page[page.length - 1]!.checkpoint);
      if (plan) {
        await applyPlanInTransaction(client, schema, plan);
        events += page.length;
        after = page[page.length - 1]!.checkpoint;
      } else {
        // Something in the page cannot be applied: find and name it, applying what comes before.
        await projectIsolating(page, (evs) => projectBatch(client, { schema, events: evs }), (_r, evs) => {
          events += evs.length;
          after = evs[evs.length - 1]!.checkpoint;
        });
      }
      if (Date.now() - lastReport >= (options.progressEveryMs ?? 1000)) {
        lastReport = Date.now();
        report('rebuild');
      }
    }
    report('rebuild');
    for (const ix of indexes) await client.query(ix.def);
    const { rows: tables } = await client.query<{ t: string }>(`SELECT tablename AS t FROM pg_tables WHERE schemaname = $1`, [schema]);
    for (const { t } of tables) await client.query(`ANALYZE "${schema}"."${t}"`);
  } finally {
    await client.query(`RESET synchronous_commit; RESET maintenance_work_mem`).catch(() => undefined);
    client.release();
  }
  return { schema, events, checkpoint: after, elapsedMs: Date.now() - started };
}

/**
 * `tf audit replay`: rebuilds every read model from the event store into a side schema while the
 * live projection keeps running, then swaps it in atomically. The swap holds the read-model
 * generation row (every live batch takes it FOR SHARE first), brings the rebuild level with the
 * live checkpoint inside the same transaction, renames the schemas and bumps the generation, so
 * the live projector continues from the checkpoint of the rebuilt models.
 */
export async function replayReadModels(options: ReplayOptions): Promise<RebuildResult & { generation: string }> {
  return withReplayLock(options.pool, async () => {
    const rebuilt = await rebuildUnlocked(options);
    const processorId = options.processorId ?? READ_MODEL_PROCESSOR_ID;
    const compare = options.compareCheckpoints ?? defaultCompare;
    const schema = rebuilt.schema;
    const started = Date.now() - rebuilt.elapsedMs;
    const client = await options.pool.connect();
    let events = rebuilt.events;
    let checkpoint = rebuilt.checkpoint;
    let generation = '';
    const oldSchema = `${READ_MODEL_SCHEMA}_replaced`;
    try {
      await client.query('BEGIN');
      try {
        const { rows } = await client.query(`SELECT generation FROM ${OPS_SCHEMA}.read_model_state WHERE id = 1 FOR UPDATE`);
        generation = String(BigInt(rows[0]?.generation ?? 1) + 1n);
        const live = await options.checkpoints.loadCheckpoint(processorId, client);
        if (compare(checkpoint, live) < 0) {
          options.onProgress?.({ phase: 'catch-up', events, elapsedMs: Date.now() - started, eventsPerSecond: 0, checkpoint });
          for (;;) {
            const page = await options.store.readAll({ after: checkpoint, limit: options.batchSize ?? 5000 });
            const upto = page.filter((e) => compare(e.checkpoint, live) <= 0);
            if (upto.length === 0) break;
            await applyEvents(client, schema, upto);
            events += upto.length;
            checkpoint = upto[upto.length - 1]!.checkpoint;
            if (upto.length < page.length || checkpoint === live) break;
          }
          if (checkpoint !== live) throw new AuditError(AuditErrorCode.Replay, `the event store ended before the live checkpoint ${live}`);
        } else if (compare(checkpoint, live) > 0) {
          await options.checkpoints.saveCheckpoint(client, processorId, live, checkpoint!);
        }
        options.onProgress?.({ phase: 'swap', events, elapsedMs: Date.now() - started, eventsPerSecond: 0, checkpoint });
        await client.query(`DROP SCHEMA IF EXISTS "${oldSchema}" CASCADE`);
        const { rows: exists } = await client.query(`SELECT 1 FROM pg_namespace WHERE nspname = $1`, [READ_MODEL_SCHEMA]);
        if (exists.length > 0) await client.query(`ALTER SCHEMA "${READ_MODEL_SCHEMA}" RENAME TO "${oldSchema}"`);
        await client.query(`ALTER SCHEMA "${schema}" RENAME TO "${READ_MODEL_SCHEMA}"`);
        await client.query(`UPDATE ${OPS_SCHEMA}.read_model_state SET generation = $1 WHERE id = 1`, [generation]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
      await client.query(`DROP SCHEMA IF EXISTS "${oldSchema}" CASCADE`);
    } finally {
      client.release();
    }
    const elapsedMs = Date.now() - started;
    options.onProgress?.({ phase: 'done', events, elapsedMs, eventsPerSecond: elapsedMs > 0 ? Math.round((events * 1000) / elapsedMs) : 0, checkpoint });
    return { schema: READ_MODEL_SCHEMA, events, checkpoint, elapsedMs, generation };
  });
}
