import pg from 'pg';
import { randomBytes } from 'node:crypto';

/** Where tests reach PostgreSQL as a superuser: `TF_TEST_PG_URL`, else the local trust-auth server. */
export const adminPgUrl = process.env.TF_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A throwaway database for one test file. */
export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  /** Drops the database (terminating any connection left open). */
  drop(): Promise<void>;
}

/** Creates a fresh, uniquely named database so parallel and repeated runs never collide. */
export async function createTestDatabase(prefix = 'test'): Promise<TestDatabase> {
  const name = `tf_${prefix.replace(/[^a-z0-9_]/g, '_')}_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminPgUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const u = new URL(adminPgUrl);
  u.pathname = `/${name}`;
  return {
    name,
    url: u.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: adminPgUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
