import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/** Where the dashboard's built files go (`services/audit-api/dashboard/dist`); its own project builds them. */
export const defaultDashboardDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dashboard', 'dist');

/**
 * The place for the dashboard: static files served from `/` (the GraphQL API keeps `/graphql`).
 * Until a dashboard is built there, `/` says where the API is.
 */
export async function registerDashboard(app: FastifyInstance, dir: string | null = defaultDashboardDir): Promise<'static' | 'none'> {
  if (dir && existsSync(dir) && statSync(dir).isDirectory()) {
    await app.register(fastifyStatic, { root: dir, prefix: '/', index: ['index.html'], wildcard: true, dotfiles: 'deny' });
    return 'static';
  }
  app.get('/', async () => ({ service: 'tameflare-audit-api', graphql: '/graphql', dashboard: `not built (expected in ${join('services', 'audit-api', 'dashboard', 'dist')})` }));
  return 'none';
}
