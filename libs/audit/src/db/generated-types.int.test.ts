import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@tameflare/testing';
import { migrateOps, migrateReadModels } from './migrate.ts';
import { OPS_SCHEMA, READ_MODEL_SCHEMA } from './schemas.ts';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const generatedDir = join(here, 'types');
const codegen = join(here, '..', '..', '..', '..', 'node_modules', '.bin', 'kysely-codegen');

/**
 * "Generated types checked in CI": migrate a fresh database, run kysely-codegen against it and
 * compare with the files in src/generated. `UPDATE_GENERATED=1` rewrites them instead.
 */
describe('generated Kysely types', () => {
  let db: TestDatabase;
  let tmp: string;
  beforeAll(async () => {
    db = await createTestDatabase('audit_codegen');
    tmp = mkdtempSync(join(tmpdir(), 'tf-codegen-'));
    const k = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: db.url, max: 1 }) }) });
    await migrateReadModels(k);
    await migrateOps(k);
    // Migrating again is a no-op.
    expect(await migrateReadModels(k)).toEqual([]);
    await k.destroy();
  });
  afterAll(async () => {
    rmSync(tmp, { recursive: true, force: true });
    await db.drop();
  });

  it.each([
    ['read-models.ts', READ_MODEL_SCHEMA],
    ['ops.ts', OPS_SCHEMA],
  ])('src/db/types/%s matches the migrated schema %s', async (file, schema) => {
    const out = join(tmp, file);
    await run(codegen, [
      '--dialect', 'postgres',
      '--url', db.url,
      '--default-schema', schema,
      '--include-pattern', `${schema}.*`,
      '--exclude-pattern', `${schema}.kysely_*`,
      '--type-mapping', '{"timestamptz":"string"}',
      '--log-level', 'error',
      '--out-file', out,
    ]);
    const generated = readFileSync(out, 'utf8');
    if (process.env.UPDATE_GENERATED === '1') writeFileSync(join(generatedDir, file), generated);
    expect(readFileSync(join(generatedDir, file), 'utf8'), `src/db/types/${file} is stale: run UPDATE_GENERATED=1 vitest run src/db/generated-types.int.test.ts`).toBe(generated);
  }, 60_000);
});
