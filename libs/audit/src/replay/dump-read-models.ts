import { createHash } from 'node:crypto';
import type { Queryable } from '../db/on-client.ts';
import { assertSchemaName } from '../db/schemas.ts';

/** One table of a dump: every row as PostgreSQL prints it, in primary-key order. */
export interface TableDump {
  rows: number;
  sha256: string;
  text: string;
}

/**
 * Every read-model table of `schema` as text, ordered by primary key, so two schemas can be
 * compared byte for byte (live projection against a replay). Run it on a UTC session.
 */
export async function dumpReadModels(q: Queryable, schema: string): Promise<Record<string, TableDump>> {
  assertSchemaName(schema);
  const { rows: tables } = await q.query({
    text: `SELECT c.relname AS table,
                  array_to_string(array_agg(quote_ident(a.attname) ORDER BY k.ord), ',') AS pk
           FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace
           JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
           CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
           JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
           WHERE n.nspname = $1 AND c.relkind = 'r' AND c.relname NOT LIKE 'kysely\\_%'
           GROUP BY c.relname
           ORDER BY c.relname`,
    values: [schema],
  });
  const out: Record<string, TableDump> = {};
  for (const t of tables as { table: string; pk: string }[]) {
    const { rows } = await q.query({ text: `SELECT t::text AS r FROM "${schema}"."${t.table}" t ORDER BY ${t.pk}` });
    const text = rows.map((r: { r: string }) => r.r).join('\n');
    out[t.table] = { rows: rows.length, sha256: createHash('sha256').update(text).digest('hex'), text };
  }
  return out;
}
