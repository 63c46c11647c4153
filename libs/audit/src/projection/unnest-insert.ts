import { sql, type Kysely, type RawBuilder } from 'kysely';

/** A column of a set-based insert: its name and the PostgreSQL type its text value is cast to. */
export interface ColumnSpec {
  readonly name: string;
  readonly type: 'uuid' | 'text' | 'integer' | 'bigint' | 'double precision' | 'boolean' | 'timestamptz' | 'jsonb' | 'text[]';
}

/** `{"a","b \"c\""}`: a text[] literal that PostgreSQL parses back to exactly these strings. */
export function textArrayLiteral(values: readonly string[]): string {
  return '{' + values.map((v) => '"' + v.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"').join(',') + '}';
}

function toText(value: unknown, type: ColumnSpec['type']): string | null {
  if (value === null || value === undefined) return null;
  if (type === 'text[]') return textArrayLiteral(value as string[]);
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new TypeError(`cannot send ${typeof value} as ${type}`);
}

/**
 * `INSERT INTO schema.table (cols) SELECT ... FROM unnest($1::text[], ...)`: one parameter per
 * column whatever the number of rows, so a batch of thousands of rows is one short statement.
 * Every value travels as text and is cast to its column type by PostgreSQL.
 */
export async function unnestInsert(
  db: Kysely<any>,
  schema: string,
  table: string,
  columns: readonly ColumnSpec[],
  rows: readonly Record<string, unknown>[],
  onConflict: RawBuilder<unknown> | null = null,
): Promise<void> {
  if (rows.length === 0) return;
  const arrays = columns.map((c) => rows.map((r) => toText(r[c.name], c.type)));
  const names = sql.join(columns.map((c) => sql.id(c.name)));
  const casts = sql.join(columns.map((c) => sql`u.${sql.id(c.name)}::${sql.raw(c.type)}`));
  const params = sql.join(arrays.map((a) => sql`${a}::text[]`));
  await sql`INSERT INTO ${sql.id(schema, table)} (${names}) SELECT ${casts} FROM unnest(${params}) AS u(${names}) ${onConflict ?? sql``}`.execute(db);
}

/** `col = EXCLUDED.col, ...` for an ON CONFLICT DO UPDATE. */
export function setFromExcluded(columns: readonly string[]): RawBuilder<unknown> {
  return sql.join(columns.map((c) => sql`${sql.id(c)} = EXCLUDED.${sql.id(c)}`));
}
