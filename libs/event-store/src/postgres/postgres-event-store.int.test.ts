import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uuidv7 } from '@tameflare/contracts';
import { createTestDatabase, freePort, waitFor, type TestDatabase } from '@tameflare/testing';
import { describeEventStoreContract } from '../test/contract.ts';
import { fixtures } from '../test/fixtures.ts';
import { DuplicateEventError } from '../errors.ts';
import { createPostgresEventStore, type PostgresEventStore } from './postgres-event-store.ts';

let db: TestDatabase;
let closedPort: number;
let schema = '';
const stores: PostgresEventStore[] = [];

beforeAll(async () => {
  db = await createTestDatabase('event_store');
  closedPort = await freePort();
});
afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await db?.drop();
});

const newStore = (s: string, extra: Partial<Parameters<typeof createPostgresEventStore>[0]> = {}) => {
  const store = createPostgresEventStore({ connectionString: db.url, schema: s, maxConnections: 12, pollIntervalMs: 200, ...extra });
  stores.push(store);
  return store;
};

describeEventStoreContract('PostgreSQL', {
  async open() {
    schema = `c_${uuidv7().replace(/-/g, '').slice(-16)}`;
    const store = newStore(schema);
    await store.migrate();
    return store;
  },
  async reopen() {
    return newStore(schema);
  },
  unreachable: () => createPostgresEventStore({ connectionString: `postgres://tf:hunter2@127.0.0.1:${closedPort}/nowhere`, connectTimeoutMs: 2000 }),
  get unreachableTarget() {
    return `127.0.0.1:${closedPort}`;
  },
  async beginAppend(store, stream, events) {
    let release!: () => void;
    let appended!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const started = new Promise<void>((r) => (appended = r));
    const done = (store as PostgresEventStore).transaction(async (tx) => {
      await tx.append(stream, events, { expectedVersion: 'any' });
      appended();
      await gate;
    });
    await Promise.race([started, done]);
    return {
      commit: async () => {
        release();
        await done;
      },
    };
  },
  async slowAppend(store, stream, events, expectedVersion, holdMs) {
    await (store as PostgresEventStore).transaction(async (tx) => {
      await tx.append(stream, events, { expectedVersion });
      await tx.client.query('SELECT pg_sleep($1)', [holdMs / 1000]);
    });
  },
});

describe('PostgreSQL adapter specifics', () => {
  let store: PostgresEventStore;
  beforeAll(async () => {
    store = newStore(`s_${uuidv7().replace(/-/g, '').slice(-16)}`);
    await store.migrate();
  });

  it('reproduces the naive-sequence hazard that the (transaction_id, global_position) order avoids', async () => {
    const a = fixtures.gatewayCreated('gw-naive', 'A');
    const b = fixtures.gatewayCreated('gw-naive', 'B');
    let release!: () => void;
    let appendedA!: (position: bigint) => void;
    const gate = new Promise<void>((r) => (release = r));
    const positionOfA = new Promise<bigint>((r) => (appendedA = r));
    const txA = store.transaction(async (tx) => {
      const { positions } = await tx.append(`gateway-${uuidv7()}`, [a], { expectedVersion: 'no_stream' });
      appendedA(positions[0]!.globalPosition);
      await gate;
    });
    const positionA = await positionOfA;
    const { positions } = await store.append(`gateway-${uuidv7()}`, [b], { expectedVersion: 'no_stream' });
    expect(positions[0]!.globalPosition).toBeGreaterThan(positionA);

    // A poller on global_position alone sees B now, moves its checkpoint past A and never returns.
    const naive = await store.pool.query(`SELECT event_id FROM ${store.schema}.events WHERE global_position >= $1 ORDER BY global_position`, [positionA.toString()]);
    expect(naive.rows.map((r) => r.event_id)).toEqual([b.id]);
    // The store reads nothing past the barrier while A is open...
    expect((await store.readAll({ after: null, limit: 10 })).map((e) => e.event.id)).not.toContain(b.id);
    release();
    await txA;
    // ...and then both, A first: it took its transaction id first, whatever the commit order.
    // (Once every older transaction on the server has ended: other tests may be running.)
    const both = await waitFor(async () => {
      const ids = (await store.readAll({ after: null, limit: 1000 })).map((e) => e.event.id).filter((id) => id === a.id || id === b.id);
      return ids.length === 2 ? ids : null;
    }, { timeoutMs: 20_000 });
    expect(both).toEqual([a.id, b.id]);
  });

  it('refuses, as DuplicateEventError, an append of an id that is already stored', async () => {
    const e = fixtures.gatewayCreated('gw-dup');
    await store.append(`gateway-${uuidv7()}`, [e], { expectedVersion: 'no_stream' });
    const s = `gateway-${uuidv7()}`;
    await expect(store.append(s, [e], { expectedVersion: 'any' })).rejects.toBeInstanceOf(DuplicateEventError);
    expect(await store.readStream(s)).toEqual({ version: 'no_stream', events: [] });
  });

  it('commits events and the caller’s own statements together, or neither', async () => {
    await store.pool.query(`CREATE TABLE IF NOT EXISTS ${store.schema}.side (id uuid PRIMARY KEY)`);
    const ok = fixtures.gatewayCreated('gw-tx');
    const s = `gateway-${uuidv7()}`;
    await store.transaction(async (tx) => {
      await tx.append(s, [ok], { expectedVersion: 'no_stream' });
      await tx.client.query(`INSERT INTO ${store.schema}.side VALUES ($1)`, [ok.id]);
    });
    const rolled = fixtures.gatewayCreated('gw-tx');
    await expect(
      store.transaction(async (tx) => {
        await tx.append(s, [rolled], { expectedVersion: 0n });
        await tx.client.query(`INSERT INTO ${store.schema}.side VALUES ($1)`, [rolled.id]);
        throw new Error('handler failed');
      }),
    ).rejects.toThrow('handler failed');
    expect((await store.readStream(s)).events.map((e) => e.event.id)).toEqual([ok.id]);
    expect((await store.pool.query(`SELECT id FROM ${store.schema}.side`)).rows.map((r) => r.id)).toEqual([ok.id]);
  });

  it('ends a running subscription quietly when the store is closed', async () => {
    const own = newStore(store.schema);
    const e = fixtures.gatewayCreated('gw-close');
    await own.append(`gateway-${uuidv7()}`, [e], { expectedVersion: 'no_stream' });
    const seen: string[] = [];
    const sub = (async () => {
      for await (const batch of own.subscribeToAll({ after: null })) seen.push(...batch.map((r) => r.event.id));
    })();
    await new Promise((r) => setTimeout(r, 300));
    await own.close();
    await sub;
    expect(seen).toContain(e.id);
  });

  it('migrates idempotently, also from several processes at once', async () => {
    const name = `m_${uuidv7().replace(/-/g, '').slice(-16)}`;
    const replicas = [newStore(name, { maxConnections: 2 }), newStore(name, { maxConnections: 2 }), newStore(name, { maxConnections: 2 })];
    await Promise.all(replicas.map((r) => r.migrate()));
    await replicas[0]!.migrate();
    const e = fixtures.gatewayCreated('gw-m');
    await replicas[1]!.append(`gateway-${uuidv7()}`, [e], { expectedVersion: 'no_stream' });
    const seen = await waitFor(async () => {
      const page = await replicas[2]!.readAll({ after: null, limit: 5 });
      return page.length ? page : null;
    }, { timeoutMs: 20_000 });
    expect(seen.map((r) => r.event.id)).toEqual([e.id]);
  });

  it('rejects a schema name that is not a plain identifier and a checkpoint from elsewhere', async () => {
    expect(() => createPostgresEventStore({ connectionString: db.url, schema: 'x; DROP TABLE y' })).toThrow(/invalid event store schema name/);
    await expect(store.readAll({ after: 'kdb:00000000000000000001:00000000000000000001', limit: 1 })).rejects.toMatchObject({ code: 'TF_ERR_STORE_BAD_CHECKPOINT' });
  });
});
