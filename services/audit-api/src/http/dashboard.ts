import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { dashboardDistDir } from '@tameflare/dashboard';

/** Where the dashboard's built files are (`libs/dashboard/dist`, from `nx build @tameflare/dashboard`). */
export const defaultDashboardDir = dashboardDistDir;

/**
 * The page loads only its own scripts and styles and talks only to this origin (`/graphql`), so
 * an injected script or a framing site gets nothing: no inline script, no third-party host.
 */
export const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

function setHeaders(res: { setHeader(name: string, value: string): unknown }, path: string): void {
  res.setHeader('content-security-policy', DASHBOARD_CSP);
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('referrer-policy', 'no-referrer');
  res.setHeader('x-frame-options', 'DENY');
  // Built assets carry a content hash in their name; index.html must be revalidated to pick up a new build.
  res.setHeader('cache-control', /[\\/]assets[\\/][^\\/]+-[A-Za-z0-9_-]{6,}\.(js|css)$/.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache');
}

/**
 * The dashboard: its static files served from `/` (the GraphQL API keeps `/graphql`). The app
 * routes in the URL hash, so only `index.html` and `assets/` exist here. Until the dashboard is
 * built, `/` says how to build it and where the API is.
 */
export async function registerDashboard(app: FastifyInstance, dir: string | null = defaultDashboardDir): Promise<'static' | 'none'> {
  if (dir && existsSync(join(dir, 'index.html'))) {
    await app.register(fastifyStatic, { root: dir, prefix: '/', index: ['index.html'], wildcard: true, dotfiles: 'deny', cacheControl: false, setHeaders });
    return 'static';
  }
  app.get('/', async () => ({
    service: 'tameflare-audit-api',
    graphql: '/graphql',
    dashboard: `not built: run \`npx nx build @tameflare/dashboard\` (expected in ${dir ?? 'a directory given by TF_AUDIT_API_DASHBOARD_DIR'})`,
  }));
  return 'none';
}
