import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createTestDatabase, startNatsServer, type TestNatsServer } from './index.ts';

describe('test harness', () => {
  let nats: TestNatsServer | undefined;
  afterAll(async () => nats?.dispose());

  it('starts a private nats-server with JetStream and restarts it on the same port', async () => {
    nats = await startNatsServer();
    expect(nats.url).toMatch(/^nats:\/\/127\.0\.0\.1:\d+$/);
    await nats.stop();
    await nats.start();
    expect(nats.pid).toBeGreaterThan(0);
  });

  it('creates and drops a fresh database', async () => {
    const db = await createTestDatabase('harness');
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    const r = await c.query('select current_database() as name');
    expect(r.rows[0].name).toBe(db.name);
    await c.end();
    await db.drop();
  });
});
