import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { uuidv7 } from '@tameflare/contracts';
import { createPostgresEventStore, type PostgresEventStore } from '@tameflare/event-store';
import {
  createAuditPool,
  dumpReadModels,
  loadTrustedKey,
  opsDb,
  ProcessorIds,
  READ_MODEL_SCHEMA,
  REBUILD_SCHEMA,
  rebuildReadModels,
  verifyChain,
} from '@tameflare/audit';
import { createEventFactory } from '@tameflare/audit/testing';
import { createTestDatabase, freePort, startNatsServer, waitFor, type TestDatabase, type TestNatsServer } from '@tameflare/testing';
import type pg from 'pg';

const main = join(dirname(fileURLToPath(import.meta.url)), 'main.ts');

interface Child {
  proc: ChildProcess;
  healthPort: number;
  output: () => string;
  exited: Promise<number | null>;
}

describe('the projector process', () => {
  let nats: TestNatsServer;
  let database: TestDatabase;
  let store: PostgresEventStore;
  let pool: pg.Pool;
  let stateDir: string;
  const children: Child[] = [];

  async function startProjector(instanceId: string, db = database, extraEnv: Record<string, string> = {}): Promise<Child> {
    const healthPort = await freePort();
    let out = '';
    const proc = spawn(process.execPath, [main], {
      env: {
        ...process.env,
        TF_NATS_URL: nats.url,
        TF_DATABASE_URL: db.url,
        TF_HEALTH_PORT: String(healthPort),
        TF_INSTANCE_ID: instanceId,
        TF_LOG_LEVEL: 'info',
        TF_PROJECTOR_STATE_DIR: stateDir,
        TF_PROJECTOR_BATCH_SIZE: '50',
        TF_PROJECTOR_SIGN_EVERY_EVENTS: '100',
        ...extraEnv,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc.stdout!.on('data', (d) => (out += d));
    proc.stderr!.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    const child = { proc, healthPort, output: () => out, exited };
    children.push(child);
    await waitFor(async () => (await fetch(`http://127.0.0.1:${healthPort}/healthz`).catch(() => null))?.ok, { timeoutMs: 30_000, what: `projector ${instanceId} up` });
    return child;
  }

  const readyz = async (c: Child) => {
    const res = await fetch(`http://127.0.0.1:${c.healthPort}/readyz`);
    return { status: res.status, body: (await res.json()) as { checks: Record<string, { ok: boolean; detail?: string }> } };
  };

  let recorded = 0;
  /** Every recorded event readable (the snapshot barrier is cluster-wide), and both processors past the last one. */
  async function caughtUp(s: PostgresEventStore = store) {
    await waitFor(
      async () => {
        let after: string | null = null;
        let readable = 0;
        for (;;) {
          const page = await s.readAll({ after, limit: 10_000 });
          if (page.length === 0) break;
          readable += page.length;
          after = page[page.length - 1]!.checkpoint;
        }
        if (readable < recorded || after === null) return false;
        // PostgreSQL checkpoints are zero-padded, so string order is log order.
        const reached = async (id: string) => ((await s.processors.loadCheckpoint(id)) ?? '') >= after!;
        return (await reached(ProcessorIds.readModels)) && (await reached(ProcessorIds.chain));
      },
      { timeoutMs: 120_000, intervalMs: 100, what: 'both processors at the head of the store' },
    );
  }

  async function expectExactProjection() {
    await rebuildReadModels({ pool, store });
    const live = await dumpReadModels(pool, READ_MODEL_SCHEMA);
    const rebuilt = await dumpReadModels(pool, REBUILD_SCHEMA);
    for (const table of Object.keys(live)) expect(rebuilt[table]!.text, table).toBe(live[table]!.text);
    const history = (await store.readAll({ after: null, limit: 10_000 })).length;
    const report = await verifyChain({ store, db: opsDb(pool), trustedKeys: [loadTrustedKey(stateDir)] });
    expect(report).toMatchObject({ ok: true, checked: history, unsealedEvents: 0 });
    return report;
  }

  function writer(seed: number, actions: number, delayMs = 2) {
    const f = createEventFactory({ seed });
    return (async () => {
      for (let i = 0; i < actions; i++) {
        const { appended } = await store.appendIdempotent(f.action());
        recorded += appended;
        if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
      }
    })();
  }

  beforeAll(async () => {
    nats = await startNatsServer();
    database = await createTestDatabase('projector_proc');
    store = createPostgresEventStore({ connectionString: database.url });
    await store.migrate();
    pool = createAuditPool({ connectionString: database.url, max: 4 });
    stateDir = mkdtempSync(join(tmpdir(), 'tf-projector-state-'));
  });
  afterEach(async () => {
    for (const c of children.splice(0)) {
      if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
      await c.exited;
    }
  });
  afterAll(async () => {
    await store?.close();
    await pool?.end();
    await database?.drop();
    await nats?.dispose();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('killed with SIGKILL mid-stream and restarted: no event missing, none applied twice', async () => {
    const writing = Promise.all([writer(1, 250), writer(2, 250)]);
    const first = await startProjector('p1');
    await waitFor(async () => (await store.processors.loadCheckpoint(ProcessorIds.readModels)) !== null, { timeoutMs: 30_000, what: 'some events projected' });
    await new Promise((r) => setTimeout(r, 300));
    first.proc.kill('SIGKILL');
    expect(await first.exited).toBe(null);
    const second = await startProjector('p2');
    await writing;
    await caughtUp();
    expect((await readyz(second)).status).toBe(200);
    await expectExactProjection();
  }, 180_000);

  it('runs one active processor per projection across two replicas; the standby takes over when the active one dies', async () => {
    const a = await startProjector('ra');
    const b = await startProjector('rb');
    const writing = writer(3, 150);
    const ops = opsDb(pool);
    const holders = async () => Object.fromEntries((await ops.selectFrom('processor_status').select(['processor_id', 'instance_id', 'state']).execute()).map((r) => [r.processor_id, r]));
    await waitFor(async () => Object.values(await holders()).filter((h) => h.state === 'running' && ['ra', 'rb'].includes(h.instance_id)).length === 2, { what: 'both processors running on the replicas' });
    const active = (await holders())[ProcessorIds.readModels]!.instance_id;
    // Both replicas are ready: the standby is healthy, it only waits for the lock.
    await waitFor(async () => (await readyz(a)).status === 200 && (await readyz(b)).status === 200, { timeoutMs: 30_000, what: 'both replicas ready' });
    const victim = active === 'ra' ? a : b;
    victim.proc.kill('SIGKILL');
    await victim.exited;
    await writing;
    await writer(4, 60, 0);
    await caughtUp();
    expect((await holders())[ProcessorIds.readModels]!.instance_id).toBe(active === 'ra' ? 'rb' : 'ra');
    await expectExactProjection();
  }, 180_000);

  it('on SIGTERM stops cleanly and signs the chain head', async () => {
    const c = await startProjector('graceful');
    await writer(5, 30, 0);
    await caughtUp();
    c.proc.kill('SIGTERM');
    expect(await c.exited).toBe(0);
    const report = await expectExactProjection();
    expect(report.unsignedEvents).toBe(0);
  }, 120_000);

  it('stops a projection on an event it cannot apply, reports it, and does not skip it', async () => {
    const db = await createTestDatabase('projector_bad');
    const s = createPostgresEventStore({ connectionString: db.url });
    await s.migrate();
    const f = createEventFactory({ seed: 9 });
    const good = f.action({ decision: 'allow' });
    await s.appendIdempotent(good);
    const badId = uuidv7();
    await s.pool.query(
      `INSERT INTO tf_events.events (stream_id, stream_version, event_id, event_type, event_version, event_time, data, metadata)
       VALUES ($1, 0, $2, 'ActionCompleted', 1, $3, $4, $5)`,
      [`action-${badId}`, badId, new Date().toISOString(), JSON.stringify({ ...(good.at(-1)!.data as object), actionId: badId, status: 99 }), JSON.stringify(good[0]!.metadata)],
    );
    await s.appendIdempotent(f.action());
    const c = await startProjector('bad', db);
    await waitFor(async () => (await readyz(c)).body.checks.service?.detail?.includes('stopped on event'), { timeoutMs: 30_000, what: 'readiness to turn off' });
    const r = await readyz(c);
    expect(r.status).toBe(503);
    expect(r.body.checks.service!.detail).toContain(`read-models stopped on event ${badId}`);
    const p = createAuditPool({ connectionString: db.url, max: 1 });
    try {
      const status = await opsDb(p).selectFrom('processor_status').selectAll().where('processor_id', '=', ProcessorIds.readModels).executeTakeFirstOrThrow();
      expect(status).toMatchObject({ state: 'failed', failed_event_id: badId, failed_event_type: 'ActionCompleted', error_code: 'TF_ERR_AUDIT_PROJECTION' });
      expect(c.output()).toContain(badId);
      // The chain seals every stored event, including the one the read models cannot use.
      const all = await s.readAll({ after: null, limit: 100 });
      await waitFor(async () => (await s.processors.loadCheckpoint(ProcessorIds.chain)) === all.at(-1)!.checkpoint, { what: 'the chain to seal everything' });
      const badAt = all.findIndex((e) => e.event.id === badId);
      expect(await s.processors.loadCheckpoint(ProcessorIds.readModels)).toBe(all[badAt - 1]!.checkpoint);
    } finally {
      c.proc.kill('SIGTERM');
      await c.exited;
      await p.end();
      await s.close();
      await db.drop();
    }
  }, 120_000);
});
