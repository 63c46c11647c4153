import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '@tameflare/contracts';
import { createTestDatabase, freePort, startNatsServer, waitFor, type TestDatabase, type TestNatsServer } from '@tameflare/testing';

const main = join(dirname(fileURLToPath(import.meta.url)), 'main.ts');

describe('the audit-api process', () => {
  let nats: TestNatsServer;
  let database: TestDatabase;
  beforeAll(async () => {
    nats = await startNatsServer();
    database = await createTestDatabase('audit_api_proc');
  });
  afterAll(async () => {
    await database?.drop();
    await nats?.dispose();
  });

  it('serves GraphQL to a bootstrap admin token, 401 to anyone else, and stops cleanly on SIGTERM', async () => {
    const [port, healthPort] = [await freePort(), await freePort()];
    const token = 'tfa_bootstrap_0123456789abcdef';
    let out = '';
    const proc = spawn(process.execPath, [main], {
      env: {
        ...process.env,
        TF_NATS_URL: nats.url,
        TF_DATABASE_URL: database.url,
        TF_HEALTH_PORT: String(healthPort),
        TF_AUDIT_API_PORT: String(port),
        TF_AUDIT_API_BOOTSTRAP_ADMIN_TOKEN_SHA256: sha256Hex(token),
        TF_LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc.stdout!.on('data', (d) => (out += d));
    proc.stderr!.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => proc.once('exit', r));
    try {
      await waitFor(async () => (await fetch(`http://127.0.0.1:${healthPort}/readyz`).catch(() => null))?.status === 200, { timeoutMs: 30_000, what: 'audit-api ready' });
      const ask = (auth?: string) =>
        fetch(`http://127.0.0.1:${port}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) },
          body: JSON.stringify({ query: '{ viewer { name role } }' }),
        });
      const anonymous = await ask();
      expect(anonymous.status).toBe(401);
      const ok = await ask(`Bearer ${token}`);
      expect(await ok.json()).toEqual({ data: { viewer: { name: 'bootstrap-admin', role: 'ADMIN' } } });
      expect(out).not.toContain(token);
    } finally {
      proc.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  }, 60_000);
});
