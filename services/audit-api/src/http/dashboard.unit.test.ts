import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DASHBOARD_CSP, registerDashboard } from './dashboard.ts';

let dir: string;
let app: FastifyInstance;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tf-dashboard-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>TameFlare</title><script type="module" src="./assets/index-AbC123xy.js"></script>');
  writeFileSync(join(dir, 'assets', 'index-AbC123xy.js'), 'console.log(1)');
  writeFileSync(join(dir, '.env'), 'SECRET=1');
  writeFileSync(join(dir, '..', `outside-${process.pid}.txt`), 'CONTENT-OUTSIDE-THE-ROOT');
  app = fastify();
  app.post('/graphql', async () => ({ data: {} }));
});

afterEach(async () => {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
  rmSync(join(dir, '..', `outside-${process.pid}.txt`), { force: true });
});

describe('registerDashboard', () => {
  it('serves index.html at / with a strict CSP and no caching, and hashed assets as immutable', async () => {
    expect(await registerDashboard(app, dir)).toBe('static');
    const page = await app.inject({ method: 'GET', url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toBe(DASHBOARD_CSP);
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.headers['cache-control']).toBe('no-cache');
    const js = await app.inject({ method: 'GET', url: '/assets/index-AbC123xy.js' });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toMatch(/javascript/);
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
  });

  it('leaves /graphql to the API and serves nothing outside the directory or hidden in it', async () => {
    await registerDashboard(app, dir);
    expect((await app.inject({ method: 'POST', url: '/graphql', payload: {} })).json()).toEqual({ data: {} });
    for (const url of [`/../outside-${process.pid}.txt`, `/%2e%2e/outside-${process.pid}.txt`, '/.env', '/assets/missing.js']) {
      const r = await app.inject({ method: 'GET', url });
      expect(r.statusCode, url).toBeGreaterThanOrEqual(400);
      expect(r.body, url).not.toMatch(/CONTENT-OUTSIDE-THE-ROOT|SECRET=1/);
    }
  });

  it('without a build, / says how to build the dashboard', async () => {
    rmSync(join(dir, 'index.html'));
    expect(await registerDashboard(app, dir)).toBe('none');
    const r = await app.inject({ method: 'GET', url: '/' });
    expect(r.json()).toMatchObject({ graphql: '/graphql', dashboard: expect.stringMatching(/^not built: run `npx nx build @tameflare\/dashboard`/) });
  });
});
