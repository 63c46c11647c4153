/** Test and benchmark helpers: valid event fixtures. The adapter contract suite is in `contract.ts` (imports vitest). */
export { fixtures } from './fixtures.ts';
