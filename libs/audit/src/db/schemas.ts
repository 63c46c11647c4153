/** The PostgreSQL schema that holds the read models (rebuilt by replay). */
export const READ_MODEL_SCHEMA = 'audit';
/** Where a replay builds the new read models before swapping them in. */
export const REBUILD_SCHEMA = 'audit_rebuild';
/** The audit chain, its signatures and the projector status (never rebuilt). */
export const OPS_SCHEMA = 'audit_ops';

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Refuses anything but a plain lowercase identifier, since schema names end up in DDL. */
export function assertSchemaName(name: string): string {
  if (!SCHEMA_NAME.test(name)) throw new TypeError(`invalid schema name "${name}"`);
  return name;
}
