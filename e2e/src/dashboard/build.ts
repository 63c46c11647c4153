import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { dashboardDistDir } from '@tameflare/dashboard';
import { build } from 'vite';

const DASHBOARD_ROOT = resolve(dashboardDistDir, '..');

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/**
 * Makes sure the audit API has a current dashboard to serve. Under Nx the e2e test target builds
 * its dependencies first (`^build`), so this finds it current; a run of this file outside Nx
 * builds it when it is missing or older than its sources.
 */
export async function ensureDashboardBuilt(): Promise<void> {
  const index = join(dashboardDistDir, 'index.html');
  const sources = Math.max(newest(join(DASHBOARD_ROOT, 'src', 'app')), statSync(join(DASHBOARD_ROOT, 'index.html')).mtimeMs, statSync(join(DASHBOARD_ROOT, 'vite.config.ts')).mtimeMs);
  if (existsSync(index) && statSync(index).mtimeMs >= sources) return;
  await build({ configFile: join(DASHBOARD_ROOT, 'vite.config.ts'), logLevel: 'warn' });
}
