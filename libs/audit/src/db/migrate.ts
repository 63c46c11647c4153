import { sql, type Kysely } from 'kysely';
import { Migrator, type Migration } from 'kysely/migration';
import { AuditError, AuditErrorCode } from '../errors.ts';
import * as readModels0001 from './migrations/read-models-0001-initial.ts';
import * as ops0001 from './migrations/ops-0001-initial.ts';
import { assertSchemaName, OPS_SCHEMA, READ_MODEL_SCHEMA } from './schemas.ts';

type MigrationUp = (db: Kysely<unknown>) => Promise<void>;

const readModelMigrations: Record<string, MigrationUp> = { '0001-initial': readModels0001.up };
const opsMigrations: Record<string, MigrationUp> = { '0001-initial': ops0001.up };

/** Each migration runs with `search_path` set to its target schema, so raw DDL lands there too. */
function scoped(schema: string, set: Record<string, MigrationUp>): Record<string, Migration> {
  return Object.fromEntries(
    Object.entries(set).map(([name, up]) => [
      name,
      {
        up: async (db: Kysely<unknown>) => {
          await sql`SET LOCAL search_path TO ${sql.id(schema)}`.execute(db);
          await up(db);
        },
      },
    ]),
  );
}

async function migrate(db: Kysely<any>, schema: string, set: Record<string, MigrationUp>): Promise<string[]> {
  assertSchemaName(schema);
  await sql`CREATE SCHEMA IF NOT EXISTS ${sql.id(schema)}`.execute(db);
  const migrator = new Migrator({
    db: db.withSchema(schema),
    migrationTableSchema: schema,
    provider: { getMigrations: async () => scoped(schema, set) },
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new AuditError(AuditErrorCode.Migration, `migrating schema "${schema}" failed${failed ? ` at ${failed}` : ''}`, { cause: error });
  }
  return (results ?? []).map((r) => r.migrationName);
}

/** Creates or upgrades the read models in `schema` (default `audit`); returns the migrations applied. */
export function migrateReadModels(db: Kysely<any>, schema: string = READ_MODEL_SCHEMA): Promise<string[]> {
  return migrate(db, schema, readModelMigrations);
}

/** Creates or upgrades the chain and status tables in `audit_ops`. */
export function migrateOps(db: Kysely<any>): Promise<string[]> {
  return migrate(db, OPS_SCHEMA, opsMigrations);
}
