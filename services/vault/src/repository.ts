import type { SecretMetadata } from '@tameflare/contracts';
import type { EncryptedSecret } from '@tameflare/vault-crypto';
import { VAULT_SCHEMA } from './schema.ts';

/** A `pg` Pool or a client inside a transaction. */
export interface Queryable {
  query(config: { text: string; values?: unknown[]; name?: string }): Promise<{ rows: any[]; rowCount: number | null }>;
}

const S = VAULT_SCHEMA;

/** The version a release would use: the current one of a secret that is not revoked. */
export interface ReleasableSecret extends EncryptedSecret {
  readonly secretId: string;
  readonly version: number;
}

/** Per request: a named (server-side prepared) statement on the primary key path. */
export async function findReleasable(db: Queryable, gatewayId: string, name: string): Promise<ReleasableSecret | undefined> {
  const r = await db.query({
    name: 'tf_vault_find_releasable',
    text: `SELECT s.secret_id, v.version, v.ciphertext, v.wrapped_key, v.master_key_id
             FROM ${S}.secrets s
             JOIN ${S}.secret_versions v ON v.secret_id = s.secret_id AND v.version = s.current_version
            WHERE s.gateway_id = $1 AND s.name = $2 AND s.revoked_at IS NULL`,
    values: [gatewayId, name],
  });
  const row = r.rows[0];
  if (!row) return undefined;
  return { secretId: row.secret_id, version: row.version, ciphertext: row.ciphertext, wrappedKey: row.wrapped_key, masterKeyId: row.master_key_id };
}

export interface LockedSecret {
  readonly secretId: string;
  /** 0 when the secret has never been stored. */
  readonly currentVersion: number;
  readonly revoked: boolean;
}

/** Creates the secret's row if needed and locks it, so concurrent writers to one name queue up. */
export async function lockSecret(db: Queryable, gatewayId: string, name: string, newId: string): Promise<LockedSecret> {
  await db.query({
    text: `INSERT INTO ${S}.secrets (secret_id, gateway_id, name, current_version) VALUES ($1, $2, $3, 0) ON CONFLICT (gateway_id, name) DO NOTHING`,
    values: [newId, gatewayId, name],
  });
  const r = await db.query({
    text: `SELECT secret_id, current_version, revoked_at IS NOT NULL AS revoked FROM ${S}.secrets WHERE gateway_id = $1 AND name = $2 FOR UPDATE`,
    values: [gatewayId, name],
  });
  const row = r.rows[0];
  return { secretId: row.secret_id, currentVersion: row.current_version, revoked: row.revoked };
}

export async function insertVersion(
  db: Queryable,
  v: { secretId: string; version: number; record: EncryptedSecret; byteLength: number; source: string; createdBy: string },
): Promise<void> {
  await db.query({
    text: `INSERT INTO ${S}.secret_versions (secret_id, version, ciphertext, wrapped_key, master_key_id, byte_length, source, created_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    values: [v.secretId, v.version, v.record.ciphertext, v.record.wrappedKey, v.record.masterKeyId, v.byteLength, v.source, v.createdBy],
  });
  await db.query({
    text: `UPDATE ${S}.secrets SET current_version = $2, updated_at = now(), revoked_at = NULL, revoked_by = NULL WHERE secret_id = $1`,
    values: [v.secretId, v.version],
  });
}

export async function markRevoked(db: Queryable, secretId: string, actor: string): Promise<void> {
  await db.query({ text: `UPDATE ${S}.secrets SET revoked_at = now(), revoked_by = $2, updated_at = now() WHERE secret_id = $1`, values: [secretId, actor] });
}

export async function listMetadata(db: Queryable, filter: { gatewayId?: string | undefined; includeRevoked: boolean }): Promise<SecretMetadata[]> {
  const r = await db.query({
    text: `SELECT s.secret_id, s.gateway_id, s.name, s.current_version, v.byte_length, s.created_at, s.updated_at, s.revoked_at IS NOT NULL AS revoked
             FROM ${S}.secrets s
             JOIN ${S}.secret_versions v ON v.secret_id = s.secret_id AND v.version = s.current_version
            WHERE ($1::text IS NULL OR s.gateway_id = $1) AND ($2 OR s.revoked_at IS NULL)
            ORDER BY s.gateway_id, s.name`,
    values: [filter.gatewayId ?? null, filter.includeRevoked],
  });
  return r.rows.map((row) => ({
    secretId: row.secret_id,
    gatewayId: row.gateway_id,
    name: row.name,
    version: row.current_version,
    byteLength: row.byte_length,
    createdAt: (row.created_at as Date).toISOString(),
    updatedAt: (row.updated_at as Date).toISOString(),
    revoked: row.revoked,
  }));
}

export interface WrappedRow extends EncryptedSecret {
  readonly secretId: string;
  readonly gatewayId: string;
  readonly version: number;
}

/** Every version whose data key is not under `currentKeyId`, locked for re-wrapping. */
export async function lockStaleVersions(db: Queryable, currentKeyId: string): Promise<WrappedRow[]> {
  const r = await db.query({
    text: `SELECT v.secret_id, s.gateway_id, v.version, v.ciphertext, v.wrapped_key, v.master_key_id
             FROM ${S}.secret_versions v JOIN ${S}.secrets s ON s.secret_id = v.secret_id
            WHERE v.master_key_id <> $1
            ORDER BY v.secret_id, v.version
              FOR UPDATE OF v`,
    values: [currentKeyId],
  });
  return r.rows.map((row) => ({
    secretId: row.secret_id,
    gatewayId: row.gateway_id,
    version: row.version,
    ciphertext: row.ciphertext,
    wrappedKey: row.wrapped_key,
    masterKeyId: row.master_key_id,
  }));
}

export async function updateWrappedKey(db: Queryable, row: { secretId: string; version: number; wrappedKey: Buffer; masterKeyId: string }): Promise<void> {
  await db.query({
    text: `UPDATE ${S}.secret_versions SET wrapped_key = $3, master_key_id = $4 WHERE secret_id = $1 AND version = $2`,
    values: [row.secretId, row.version, row.wrappedKey, row.masterKeyId],
  });
}

/** How many secret versions each master key wraps (for the start-up report). */
export async function countByMasterKey(db: Queryable): Promise<Record<string, number>> {
  const r = await db.query({ text: `SELECT master_key_id, count(*)::int AS n FROM ${S}.secret_versions GROUP BY 1 ORDER BY 1` });
  return Object.fromEntries(r.rows.map((row) => [row.master_key_id as string, row.n as number]));
}
