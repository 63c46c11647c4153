/** Test and benchmark helpers: valid event fixtures and a private PostgreSQL server. The adapter contract suite is in `contract.ts` (imports vitest). */
export { fixtures } from './fixtures.ts';
export { startPrivatePostgres, type PrivatePostgres } from './private-postgres.ts';
