import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Commands, type GatewayReply } from '@tameflare/contracts';
import { freePort, waitFor } from '@tameflare/testing';
import { startControlTestEnv, type ControlTestEnv } from './test/env.ts';

let env: ControlTestEnv;
beforeAll(async () => {
  env = await startControlTestEnv();
});
afterAll(async () => env?.dispose());

it('runs as its own process under NATS user control: ready, serving, and stops cleanly on SIGTERM', async () => {
  const healthPort = await freePort();
  let output = '';
  const child = spawn(process.execPath, [resolve(import.meta.dirname, 'main.ts')], {
    env: {
      PATH: process.env.PATH ?? '',
      TF_NATS_URL: env.nats.url,
      TF_NATS_USER: 'control',
      TF_NATS_PASSWORD: env.passwords.control,
      TF_DATABASE_URL: env.db.url,
      TF_HEALTH_PORT: String(healthPort),
      TF_INSTANCE_ID: 'control-test',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  try {
    await waitFor(async () => (await fetch(`http://127.0.0.1:${healthPort}/readyz`)).ok, { timeoutMs: 20_000, what: `control /readyz\n${output}` });
    const reply = await env.admin.request<GatewayReply>(Commands.gatewayCreate, { gatewayId: 'proc', mode: 'enforce', actor: 'test' });
    expect(reply).toEqual({ gatewayId: 'proc', name: 'proc', mode: 'enforce', created: true });
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  } finally {
    child.kill('SIGKILL');
  }
  expect(output).not.toMatch(/permission/i);
});
