import type pg from 'pg';
import type { SchemaNames } from './schema.ts';

/**
 * Runs `sql` in one transaction under a transaction-level advisory lock, so replicas that start
 * together migrate one after the other instead of racing on `CREATE ... IF NOT EXISTS`.
 */
export async function migrateWith(pool: pg.Pool, n: SchemaNames, sql: string): Promise<void> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    await c.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`tameflare.migrate:${n.schema}`]);
    await c.query(sql);
    await c.query('COMMIT');
  } catch (err) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    c.release();
  }
}

/** Runs `fn` inside BEGIN/COMMIT on one pooled client, rolling back when it throws. */
export async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  let broken = false;
  try {
    await c.query('BEGIN');
    const result = await fn(c);
    await c.query('COMMIT');
    return result;
  } catch (err) {
    await c.query('ROLLBACK').catch(() => {
      broken = true;
    });
    throw err;
  } finally {
    c.release(broken);
  }
}
