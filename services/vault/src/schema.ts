import type pg from 'pg';

/** The vault's own schema. Ciphertext lives here, never in the event store. */
export const VAULT_SCHEMA = 'tf_vault';

/**
 * Migrations, in order. Each runs once, recorded in `tf_vault.migrations`; never edit one that
 * has shipped, add the next.
 */
export const migrations: readonly { id: number; name: string; sql: string }[] = [
  {
    id: 1,
    name: 'secrets and versions',
    sql: `
      CREATE TABLE ${VAULT_SCHEMA}.secrets (
        secret_id uuid PRIMARY KEY,
        gateway_id text NOT NULL,
        name text NOT NULL,
        -- 0 while the first version is being stored (the row exists to serialise concurrent sets).
        current_version integer NOT NULL CHECK (current_version >= 0),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz,
        revoked_by text,
        UNIQUE (gateway_id, name)
      );
      CREATE TABLE ${VAULT_SCHEMA}.secret_versions (
        secret_id uuid NOT NULL REFERENCES ${VAULT_SCHEMA}.secrets (secret_id),
        version integer NOT NULL CHECK (version >= 1),
        -- format | iv | tag | AES-256-GCM(value) under the data key; AAD = gateway, secret id, version
        ciphertext bytea NOT NULL,
        -- format | iv | tag | AES-256-GCM(data key) under the KEK of master_key_id
        wrapped_key bytea NOT NULL,
        master_key_id text NOT NULL,
        byte_length integer NOT NULL,
        source text NOT NULL,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (secret_id, version)
      );
      CREATE INDEX secret_versions_master_key ON ${VAULT_SCHEMA}.secret_versions (master_key_id);
    `,
  },
];

/**
 * Brings the vault schema up to date. Safe from several replicas at once: a transaction-level
 * advisory lock makes them migrate one after the other.
 */
export async function migrateVault(pool: pg.Pool): Promise<void> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    await c.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`tameflare.migrate:${VAULT_SCHEMA}`]);
    await c.query(`CREATE SCHEMA IF NOT EXISTS ${VAULT_SCHEMA}`);
    await c.query(`CREATE TABLE IF NOT EXISTS ${VAULT_SCHEMA}.migrations (id integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Set((await c.query<{ id: number }>(`SELECT id FROM ${VAULT_SCHEMA}.migrations`)).rows.map((r) => r.id));
    for (const m of migrations) {
      if (done.has(m.id)) continue;
      await c.query(m.sql);
      await c.query(`INSERT INTO ${VAULT_SCHEMA}.migrations (id, name) VALUES ($1, $2)`, [m.id, m.name]);
    }
    await c.query('COMMIT');
  } catch (err) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    c.release();
  }
}
