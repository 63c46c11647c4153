import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Commands, type DecideReply, type EventEnvelope, type PublishPolicyReply } from '@tameflare/contracts';
import { connectBus, type Bus } from '@tameflare/messaging';
import { createTestDatabase, freePort, startNatsServer, waitFor, type TestDatabase, type TestNatsServer } from '@tameflare/testing';
import { ingressKey, requested } from './test/support.ts';

let nats: TestNatsServer;
let db: TestDatabase;
let client: Bus;
const children: ChildProcess[] = [];

function startProcess(instanceId: string, healthPort: number): { child: ChildProcess; exited: Promise<number | null>; output: () => string } {
  const child = spawn(process.execPath, [fileURLToPath(new URL('./main.ts', import.meta.url))], {
    env: {
      ...process.env,
      TF_NATS_URL: nats.url,
      TF_DATABASE_URL: db.url,
      TF_HEALTH_PORT: String(healthPort),
      TF_INSTANCE_ID: instanceId,
      TF_LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, exited, output: () => out };
}

beforeAll(async () => {
  nats = await startNatsServer();
  db = await createTestDatabase('policy_main');
  client = await connectBus({ servers: nats.url, name: 'ingress@test', requestTimeoutMs: 10_000 });
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await client?.close();
  await db?.drop();
  await nats?.dispose();
});

describe('the policy process', () => {
  it('starts from its environment, becomes ready, decides, logs the switch, and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const p = startProcess('proc-1', port);
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null))?.ok, { timeoutMs: 20_000, what: 'policy /readyz' });
    const published = await client.request<PublishPolicyReply>(Commands.policyPublish, {
      gatewayId: 'default',
      source: 'version: 1\nrules:\n  - id: reads\n    effect: allow\n    match: { actions: ["**"] }\n    when: action.risk == "read"\n',
      fileName: 'p.yaml',
      publishedBy: 'ops',
    });
    expect(published.version).toBe(1);
    await waitFor(() => p.output().includes('policy bundle switched'), { what: 'switch log line' });
    const key = ingressKey();
    const reply = await client.request<DecideReply>(Commands.policyDecide, { requested: requested({ type: 'github.repo.get', risk: 'read' }), ingress: { id: key.id, publicKey: key.publicKey } });
    expect((reply.decided as EventEnvelope<'ActionDecided'>).data).toMatchObject({ decision: 'allow', decidingRule: 'reads', policy: { version: 1 } });
    expect((reply.decided as EventEnvelope).metadata.source).toBe('policy@proc-1');
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
  });

  it('refuses to start with a bad setting, naming it, and exits 1', async () => {
    const child = spawn(process.execPath, [fileURLToPath(new URL('./main.ts', import.meta.url))], {
      env: { ...process.env, TF_NATS_URL: nats.url, TF_DATABASE_URL: 'mysql://nope', TF_HEALTH_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    const code = await new Promise((r) => child.once('exit', r));
    expect(code).toBe(1);
    expect(err).toContain('TF_DATABASE_URL');
  });
});
