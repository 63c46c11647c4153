import { Kysely, PostgresDialect } from 'kysely';
import type pg from 'pg';
import { Buckets, sha256Hex, uuidv7, type ApiTokenEntry, type Role, type TameFlareEvent } from '@tameflare/contracts';
import { connectBus, type Bus } from '@tameflare/messaging';
import { createPostgresEventStore, type PostgresEventStore } from '@tameflare/event-store';
import { createAuditPool, migrateOps, migrateReadModels, runReadModelProjection } from '@tameflare/audit';
import { createTestDatabase, startNatsServer, type TestDatabase, type TestNatsServer } from '@tameflare/testing';
import { createAuthenticator } from '../auth/authenticate.ts';
import { createAuditApi, type AuditApi } from '../server.ts';

const silent = { info: () => undefined, warn: () => undefined, error: (o: object, m?: string) => (process.env.AUDIT_API_DEBUG ? console.error(m, o) : undefined), debug: () => undefined };

/** A whole audit API over a private NATS server and a fresh database, with a live projector. */
export interface ApiHarness {
  nats: TestNatsServer;
  database: TestDatabase;
  store: PostgresEventStore;
  pool: pg.Pool;
  bus: Bus;
  api: AuditApi;
  tokens: Record<Role, string> & { bootstrap: string };
  /** Appends events and waits until the projector has applied them. */
  record(events: TameFlareEvent[]): Promise<void>;
  gql<T = any>(query: string, variables?: Record<string, unknown>, token?: string | null): Promise<{ status: number; body: { data?: T; errors?: { message: string; extensions?: Record<string, any> }[] } }>;
  dispose(): Promise<void>;
}

export async function startApiHarness(prefix: string, options: { backtestMaxActions?: number } = {}): Promise<ApiHarness> {
  const nats = await startNatsServer();
  const bus = await connectBus({ servers: nats.url, name: `${prefix}-test` });
  await bus.ensureBuckets();
  const database = await createTestDatabase(prefix);
  const store = createPostgresEventStore({ connectionString: database.url, pollIntervalMs: 50 });
  await store.migrate();
  const pool = createAuditPool({ connectionString: database.url, max: 8 });
  const k = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
  await migrateReadModels(k);
  await migrateOps(k);

  const tokens = { viewer: `tfa_viewer_${uuidv7()}`, approver: `tfa_approver_${uuidv7()}`, admin: `tfa_admin_${uuidv7()}`, bootstrap: `tfa_boot_${uuidv7()}` };
  const kv = await bus.kv(Buckets.apiTokens);
  for (const role of ['viewer', 'approver', 'admin'] as const) {
    const entry: ApiTokenEntry = { tokenId: uuidv7(), name: `${role}-alice`, role, issuedAt: new Date().toISOString() };
    await kv.put(sha256Hex(tokens[role]), entry);
  }

  let applied: string | null = null;
  const ctl = new AbortController();
  const projecting = runReadModelProjection({ pool, store, checkpoints: store.processors, signal: ctl.signal, onApplied: (b) => (applied = b.checkpoint) });
  projecting.catch(() => undefined);

  const api = await createAuditApi({
    pool,
    bus,
    authenticator: createAuthenticator({ bus, bootstrapAdminTokenSha256: sha256Hex(tokens.bootstrap) }),
    log: silent,
    port: 0,
    dashboardDir: null,
    backtestMaxActions: options.backtestMaxActions,
  });

  return {
    nats,
    database,
    store,
    pool,
    bus,
    api,
    tokens,
    async record(events) {
      await store.appendIdempotent(events);
      const { rows } = await pool.query(
        `SELECT 'pg:' || lpad(max(transaction_id::text), 20, '0') AS tx, lpad(max(global_position)::text, 20, '0') AS gp
         FROM tf_events.events WHERE event_id = ANY($1::uuid[]) GROUP BY transaction_id ORDER BY transaction_id::text::numeric DESC LIMIT 1`,
        [events.map((e) => e.id)],
      );
      const target = `${rows[0].tx}:${rows[0].gp}`;
      const deadline = Date.now() + 60_000;
      while ((applied ?? '') < target) {
        if (Date.now() > deadline) throw new Error(`projection did not reach ${target} (at ${applied})`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async gql(query, variables, token = tokens.viewer) {
      const res = await fetch(`${api.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query, variables }),
      });
      return { status: res.status, body: (await res.json()) as never };
    },
    async dispose() {
      await api.close();
      ctl.abort();
      await projecting.catch(() => undefined);
      await bus.close();
      await store.close();
      await pool.end();
      await database.drop();
      await nats.dispose();
    },
  };
}
