import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { uuidv7 } from '@tameflare/contracts';
import { createTestDatabase, freePort, type TestDatabase } from '@tameflare/testing';
import { CheckpointConflictError, EventStoreErrorCode } from '../errors.ts';
import { createPostgresEventStore, type PostgresEventStore } from '../postgres/postgres-event-store.ts';
import { acquireProcessorLock, type ProcessorLock } from './processor-lock.ts';
import { createProcessorStore } from './processor-store.ts';

let db: TestDatabase;
let store: PostgresEventStore;
const locks: ProcessorLock[] = [];

beforeAll(async () => {
  db = await createTestDatabase('processors');
  store = createPostgresEventStore({ connectionString: db.url, schema: 'procs', maxConnections: 6 });
  await store.migrate();
  await store.pool.query('CREATE TABLE procs.read_model (id text PRIMARY KEY)');
});
afterAll(async () => {
  await Promise.all(locks.map((l) => l.release()));
  await store?.close();
  await db?.drop();
});

const cp = (n: number) => `pg:${String(n).padStart(20, '0')}:${String(n).padStart(20, '0')}`;

describe('processor checkpoints', () => {
  it('commits a projection and its checkpoint together, or neither', async () => {
    const p = store.processors;
    expect(await p.loadCheckpoint('audit')).toBeNull();
    await store.transaction(async (tx) => {
      await tx.client.query(`INSERT INTO procs.read_model VALUES ('one')`);
      await p.saveCheckpoint(tx.client, 'audit', null, cp(1));
    });
    expect(await p.loadCheckpoint('audit')).toBe(cp(1));

    await expect(
      store.transaction(async (tx) => {
        await tx.client.query(`INSERT INTO procs.read_model VALUES ('two')`);
        await p.saveCheckpoint(tx.client, 'audit', cp(1), cp(2));
        throw new Error('projection failed after the checkpoint moved');
      }),
    ).rejects.toThrow('projection failed');
    expect(await p.loadCheckpoint('audit')).toBe(cp(1));
    expect((await store.pool.query('SELECT id FROM procs.read_model ORDER BY id')).rows.map((r) => r.id)).toEqual(['one']);
  });

  it('compares and sets: a stale expected checkpoint is a conflict, saving the same move twice is not', async () => {
    const p = store.processors;
    await p.saveCheckpoint(store.pool, 'cas', null, cp(5));
    await p.saveCheckpoint(store.pool, 'cas', cp(5), cp(6));
    await p.saveCheckpoint(store.pool, 'cas', cp(5), cp(6));
    const stale = await p.saveCheckpoint(store.pool, 'cas', cp(5), cp(7)).catch((e) => e);
    expect(stale).toBeInstanceOf(CheckpointConflictError);
    expect(stale.code).toBe(EventStoreErrorCode.CheckpointConflict);
    expect(stale.details).toEqual({ processorId: 'cas', expected: cp(5), actual: cp(6) });
    await expect(p.saveCheckpoint(store.pool, 'cas', null, cp(9))).rejects.toBeInstanceOf(CheckpointConflictError);
    await expect(p.saveCheckpoint(store.pool, 'never-saved', cp(1), cp(2))).rejects.toBeInstanceOf(CheckpointConflictError);
    expect(await p.loadCheckpoint('cas')).toBe(cp(6));
  });

  it('lets only one of two concurrent instances move the same checkpoint', async () => {
    const p = store.processors;
    await p.saveCheckpoint(store.pool, 'race', null, cp(1));
    const moves = await Promise.allSettled(
      [cp(2), cp(3)].map((next) =>
        store.transaction(async (tx) => {
          await p.saveCheckpoint(tx.client, 'race', cp(1), next);
          await tx.client.query('SELECT pg_sleep(0.05)');
        }),
      ),
    );
    expect(moves.filter((m) => m.status === 'fulfilled')).toHaveLength(1);
    expect(moves.filter((m) => m.status === 'rejected').map((m) => (m as PromiseRejectedResult).reason.code)).toEqual([EventStoreErrorCode.CheckpointConflict]);
  });

  it('works beside a KurrentDB store: a processor store of its own creates just its table', async () => {
    const own = createProcessorStore({ connectionString: db.url, schema: 'projections_only' });
    try {
      await own.migrate();
      await own.saveCheckpoint(store.pool, 'p', null, 'kdb:00000000000000000010:00000000000000000010');
      expect(await own.loadCheckpoint('p')).toBe('kdb:00000000000000000010:00000000000000000010');
      const tables = await store.pool.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'projections_only'`);
      expect(tables.rows.map((r) => r.table_name)).toEqual(['processors']);
    } finally {
      await own.close();
    }
  });
});

describe('single-active processor lock', () => {
  it('admits one holder, reports the loss when its session dies, and hands over to a waiter', async () => {
    const processorId = `relay-${uuidv7()}`;
    const lost: Error[] = [];
    const first = await store.processors.acquireLock(processorId, { heartbeatMs: 200, onLost: (e) => lost.push(e) });
    expect(first).not.toBeNull();
    locks.push(first!);
    expect(await store.processors.acquireLock(processorId, { wait: false })).toBeNull();

    const waiting = store.processors.acquireLock(processorId, { retryMs: 50 });
    await new Promise((r) => setTimeout(r, 200));
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    try {
      const killed = await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()`,
        [`tameflare-lock:${processorId}`.slice(0, 63)],
      );
      // Both the holder's and the waiter's sessions carry the name; the waiter reconnects.
      expect(killed.rowCount).toBeGreaterThanOrEqual(1);
    } finally {
      await admin.end();
    }
    const second = await waiting;
    expect(second).not.toBeNull();
    locks.push(second!);
    expect(first!.signal.aborted).toBe(true);
    expect(first!.lost).toBe(true);
    expect(lost).toHaveLength(1);
    expect((first!.signal.reason as { code: string }).code).toBe(EventStoreErrorCode.LockLost);

    await second!.release();
    expect(second!.lost).toBe(false);
    const third = await store.processors.acquireLock(processorId, { wait: false });
    expect(third).not.toBeNull();
    locks.push(third!);
  });

  it('keeps locks of the same processor id in different schemas apart', async () => {
    const a = await acquireProcessorLock({ connectionString: db.url, schema: 'one', processorId: 'projector', wait: false });
    const b = await acquireProcessorLock({ connectionString: db.url, schema: 'two', processorId: 'projector', wait: false });
    locks.push(a!, b!);
    expect(a).not.toBeNull();
    expect(b).not.toBeNull();
  });

  it('fails with EventStoreUnavailableError when asked not to wait and the server is unreachable', async () => {
    const port = await freePort();
    const err = await acquireProcessorLock({ connectionString: `postgres://x:hunter2@127.0.0.1:${port}/db`, processorId: 'p', wait: false }).catch((e) => e);
    expect(err.code).toBe(EventStoreErrorCode.Unavailable);
    expect(err.message).toContain(`127.0.0.1:${port}`);
    expect(err.message).not.toContain('hunter2');
  });
});
