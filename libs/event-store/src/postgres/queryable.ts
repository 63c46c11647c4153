/** Anything that runs a parameterised query: a `pg` Pool, Client or PoolClient (also inside a caller's transaction). */
export interface Queryable {
  query(config: { text: string; values?: unknown[]; name?: string }): Promise<{ rows: any[]; rowCount: number | null }>;
}
