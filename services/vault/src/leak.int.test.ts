/**
 * The vault's own traffic, run against the real vault process (main.ts) over a private
 * nats-server with the least-privilege configuration (each party on its own NATS user: vault,
 * policy for releases, audit-api for management, admin for the capture) and a fresh database,
 * then searched for every secret value and both master keys in
 * every form: every column of every table (event store and vault tables), every NATS message
 * (captured by a `>` subscriber), the JetStream store on disk, and every log line at trace level.
 *
 * The full-stack version (ingress, policy, recorder, projector in the loop) uses the same search
 * from `@tameflare/vault-crypto/testing` and lives with the e2e suite.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import {
  Commands,
  inboxPrefixFor,
  isTameFlareError,
  natsAuthorizationConfig,
  natsUsers,
  type CredentialInjection,
  type NatsUser,
  type VaultReleaseReply,
} from '@tameflare/contracts';
import { connectBus, type Bus } from '@tameflare/messaging';
import { createTestDatabase, startNatsServer, waitFor, type TestDatabase, type TestNatsServer } from '@tameflare/testing';
import { createSecretScrubber, generateMasterKey, injectCredential, openCredential, sealSecretValue } from '@tameflare/vault-crypto';
import { leakNeedles, searchBlobs, searchFiles, searchPostgres, startNatsCapture, type NatsCapture, type Needle } from '@tameflare/vault-crypto/testing';
import { releaseRequest } from './test/support.ts';

const main = join(dirname(fileURLToPath(import.meta.url)), 'main.ts');
const oldKey = generateMasterKey();
const newKey = generateMasterKey();
const secrets: Record<string, { value: string; injection: CredentialInjection }> = {
  github: { value: 'ghp_LEAKCANARYgithub0123456789abcdefABCD', injection: { kind: 'bearer' } },
  stripe: { value: 'sk_live_LEAKCANARY/stripe+key=51Habcdef', injection: { kind: 'basic' } },
  openai: { value: 'sk-proj-LEAKCANARY-openai-4f2b9c1d8e7a6', injection: { kind: 'header', name: 'X-Api-Key', prefix: 'Key ' } },
  maps: { value: 'AIzaLEAKCANARYmaps_query-param-key-123', injection: { kind: 'query', name: 'key' } },
};
const rotatedGithub = 'ghp_LEAKCANARYrotated9876543210zyxwvuZYX';
const tooLarge = `sk_LEAKCANARY_toolarge_${'q'.repeat(20_000)}`;

const needles: Needle[] = [
  ...Object.values(secrets).flatMap((s) => leakNeedles(s.value)),
  ...leakNeedles(rotatedGithub),
  ...leakNeedles(tooLarge.slice(0, 40)),
  ...[oldKey, newKey].flatMap((k) => [...leakNeedles(k), { label: 'master key (raw bytes)', bytes: Buffer.from(k, 'base64') }]),
];

const passwords = Object.fromEntries(natsUsers.map((u) => [u, randomBytes(18).toString('base64url')])) as Record<NatsUser, string>;
let nats: TestNatsServer;
let db: TestDatabase;
let capture: NatsCapture;
let admin: NatsConnection;
/** The policy service's seat: it may ask for releases, nothing else of the vault. */
let client: Bus;
/** The GraphQL API's seat (what `tf secret ...` goes through): every vault command but release. */
let manage: Bus;
const logDir = mkdtempSync(join(tmpdir(), 'tf-vault-leak-'));
let child: ChildProcess | undefined;
let runs = 0;

async function startVaultProcess(env: Record<string, string>): Promise<void> {
  const log = openSync(join(logDir, `vault-${++runs}.log`), 'a');
  child = spawn(process.execPath, [main], {
    env: {
      PATH: process.env.PATH ?? '',
      TF_NATS_URL: nats.url,
      TF_NATS_USER: 'vault',
      TF_NATS_PASSWORD: passwords.vault,
      TF_DATABASE_URL: db.url,
      TF_HEALTH_PORT: '0',
      TF_LOG_LEVEL: 'trace',
      TF_INSTANCE_ID: `vault-leak-${runs}`,
      ...env,
    },
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  await waitFor(async () => (await manage.request(Commands.vaultPublicKey, {}, { timeoutMs: 500 }).then(() => true, () => false)), { timeoutMs: 20_000, what: 'vault process' });
}

async function stopVaultProcess(): Promise<void> {
  const c = child;
  if (!c || c.exitCode !== null) return;
  const done = new Promise((r) => c.once('exit', r));
  c.kill('SIGTERM');
  await done;
}

async function put(name: string, value: string, mode: 'set' | 'rotate' = 'set') {
  const pk = await manage.request<{ publicKey: string }>(Commands.vaultPublicKey, {});
  return manage.request(Commands.vaultSecretPut, { gatewayId: 'default', name, box: sealSecretValue(value, pk.publicKey, { gatewayId: 'default', name }), source: 'env', actor: 'leak-test', mode });
}

/** The ingress side of a release: open, inject into the upstream request, scrub the echoed response. */
async function useCredential(name: string): Promise<string> {
  const { req, ingress } = releaseRequest(name, { injection: secrets[name]?.injection ?? { kind: 'bearer' } });
  const reply = await client.request<VaultReleaseReply>(Commands.vaultRelease, req);
  const value = openCredential(reply.credential, ingress.privateKey, { actionId: req.actionId, ingressId: req.ingress.id });
  const injected = injectCredential({ authorization: 'Bearer fake' }, 'https://api.example.test/v1/x?a=1', reply.credential.injection, value);
  const scrubber = createSecretScrubber(value, reply.credential.injection);
  const echoed = scrubber.text(JSON.stringify({ headers: injected.headers, url: injected.url.href }));
  expect(scrubber.redactions).toBeGreaterThan(0);
  return echoed;
}

beforeAll(async () => {
  nats = await startNatsServer({ extraConfig: natsAuthorizationConfig({ passwords }) });
  db = await createTestDatabase('vault_leak');
  admin = await connect({ servers: nats.url, name: 'leak-capture', user: 'admin', pass: passwords.admin, inboxPrefix: inboxPrefixFor('admin') });
  capture = await startNatsCapture(admin);
  const as = (user: NatsUser) => connectBus({ servers: nats.url, name: `${user}@leak`, user, pass: passwords[user], inboxPrefix: inboxPrefixFor(user), requestTimeoutMs: 5000 });
  client = await as('policy');
  manage = await as('audit-api');
}, 60_000);

afterAll(async () => {
  await stopVaultProcess();
  await client?.close();
  await manage?.close();
  await admin?.close();
  await db?.drop();
  await nats?.dispose();
  rmSync(logDir, { recursive: true, force: true });
});

describe('no secret leaks from the vault’s traffic', () => {
  it('runs stores, rotations, releases with every injection rule, revokes, errors and a master-key rotation', async () => {
    await startVaultProcess({ TF_VAULT_MASTER_KEY: oldKey });
    for (const [name, s] of Object.entries(secrets)) await put(name, s.value);
    const agentVisible: string[] = [];
    for (let i = 0; i < 5; i++) for (const name of Object.keys(secrets)) agentVisible.push(await useCredential(name));
    await put('github', rotatedGithub, 'rotate');
    agentVisible.push(await useCredential('github'));
    await manage.request(Commands.vaultSecretList, {});
    await manage.request(Commands.vaultSecretRevoke, { gatewayId: 'default', name: 'maps', actor: 'leak-test' });
    const refused = await Promise.allSettled([useCredential('maps'), useCredential('nope'), put('big', tooLarge), put('nope2', 'value-for-a-missing-secret', 'rotate')]);
    expect(refused.map((r) => (r.status === 'rejected' && isTameFlareError(r.reason) ? r.reason.code : r.status))).toEqual([
      'TF_ERR_VAULT_SECRET_MISSING',
      'TF_ERR_VAULT_SECRET_MISSING',
      'TF_ERR_VAULT_SECRET_TOO_LARGE',
      'TF_ERR_VAULT_SECRET_MISSING',
    ]);
    await stopVaultProcess();

    await startVaultProcess({ TF_VAULT_MASTER_KEY: newKey, TF_VAULT_PREVIOUS_MASTER_KEYS: oldKey });
    expect(await manage.request<{ rewrappedDataKeys: number }>(Commands.vaultMasterKeyRotate, { actor: 'leak-test' })).toMatchObject({ rewrappedDataKeys: 5 });
    await stopVaultProcess();
    await startVaultProcess({ TF_VAULT_MASTER_KEY: newKey });
    for (const name of ['github', 'stripe', 'openai']) agentVisible.push(await useCredential(name));
    await stopVaultProcess();

    // What the agent would have received: redacted, in every form.
    expect(searchBlobs(agentVisible.map((data, i) => ({ where: `agent response ${i}`, data })), needles)).toEqual([]);
  }, 120_000);

  it('finds none of them in PostgreSQL, NATS, the JetStream store or the logs', async () => {
    const messages = await capture.stop();
    // The search saw the traffic: releases and their sealed replies, puts, lifecycle events.
    const subjects = new Set(messages.map((m) => m.subject));
    expect(subjects).toContain(Commands.vaultRelease.subject);
    expect(subjects).toContain(Commands.vaultSecretPut.subject);
    expect([...subjects].some((s) => s.startsWith('tf.evt.action.credential_released.'))).toBe(true);
    expect(messages.filter((m) => m.subject.startsWith(`${inboxPrefixFor('policy')}.`)).length).toBeGreaterThan(20);
    expect(messages.filter((m) => m.subject.startsWith(`${inboxPrefixFor('vault')}.`)).length).toBeGreaterThan(20);

    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    let pgResult;
    try {
      pgResult = await searchPostgres(c, needles);
      const versions = (await c.query('SELECT count(*)::int AS n FROM tf_vault.secret_versions')).rows[0].n;
      expect(versions).toBe(5);
    } finally {
      await c.end();
    }
    expect(pgResult.tables).toBeGreaterThanOrEqual(3);
    expect(pgResult.rows).toBeGreaterThan(10);

    const logs = searchFiles(logDir, needles);
    expect(logs.files).toBe(runs);
    expect(logs.bytes).toBeGreaterThan(1000);
    const logText = readFileSync(join(logDir, 'vault-1.log'), 'utf8');
    expect(logText).toContain('secret stored');

    const jetstream = searchFiles(nats.storeDir, needles);
    expect(jetstream.files).toBeGreaterThan(0);

    expect({ postgres: pgResult.hits, nats: capture.search(needles), logs: logs.hits, jetstream: jetstream.hits }).toEqual({ postgres: [], nats: [], logs: [], jetstream: [] });
  });
});
