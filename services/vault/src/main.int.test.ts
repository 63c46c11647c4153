/** The vault process refuses to start, with one clear line, when its master key is unusable. */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNatsServer, type TestNatsServer } from '@tameflare/testing';

const main = join(dirname(fileURLToPath(import.meta.url)), 'main.ts');
const dir = mkdtempSync(join(tmpdir(), 'tf-vault-main-'));
let nats: TestNatsServer;

beforeAll(async () => {
  nats = await startNatsServer({ jetstream: false });
});
afterAll(async () => {
  await nats?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

function run(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [main], {
      env: { PATH: process.env.PATH ?? '', TF_NATS_URL: nats.url, TF_DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/unused', TF_HEALTH_PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

describe('vault start-up with a bad master key', () => {
  it('refuses a key of the wrong length, naming the variable but not the key', async () => {
    const key = randomBytes(16).toString('base64');
    const r = await run({ TF_VAULT_MASTER_KEY: key });
    expect(r.code).not.toBe(0);
    expect(r.output).toContain('TF_ERR_VAULT_MASTER_KEY_INVALID');
    expect(r.output).toContain('TF_VAULT_MASTER_KEY must be exactly 32 bytes');
    expect(r.output).not.toContain(key);
  });

  it('refuses a key file that others can read, and a missing key', async () => {
    const file = join(dir, 'master.key');
    writeFileSync(file, randomBytes(32).toString('base64'));
    chmodSync(file, 0o644);
    const loose = await run({ TF_VAULT_MASTER_KEY_FILE: file });
    expect(loose.code).not.toBe(0);
    expect(loose.output).toContain('must be 0600 or stricter');
    const none = await run({});
    expect(none.code).not.toBe(0);
    expect(none.output).toContain('no master key: set TF_VAULT_MASTER_KEY');
  });
});
