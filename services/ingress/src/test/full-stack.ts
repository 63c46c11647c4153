/**
 * The whole governed path as separate processes, for the full-path test and the benchmark: a
 * private nats-server, a fresh PostgreSQL database, the real policy and vault services, and one
 * ingress process, with a published policy bundle, an OpenAI connector whose secret is in the
 * vault, and an agent run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Buckets, Commands, randomToken, sha256Hex, uuidv7, type ConnectorEntry, type RunEntry } from '@tameflare/contracts';
import { connectBus, type Bus } from '@tameflare/messaging';
import { createTestDatabase, freePort, startNatsServer, waitFor, type TestDatabase, type TestNatsServer } from '@tameflare/testing';
import { sealSecretValue } from '@tameflare/vault-crypto';

const root = fileURLToPath(new URL('../../../../', import.meta.url));

export const FULL_GATEWAY = 'gw-full';
export const FULL_POLICY = `
version: 1
name: full-path
rules:
  - id: deny-file-upload
    effect: deny
    match: { actions: [openai.file.upload] }
    reason: Agents may not upload files to OpenAI
  - id: allow-openai
    effect: allow
    match: { actions: ["openai.**"] }
`;

export interface FullStack {
  nats: TestNatsServer;
  db: TestDatabase;
  bus: Bus;
  /** `http://tf:<token>@127.0.0.1:<port>` */
  proxyUrl: string;
  /** The ingress CA (PEM) the agent trusts. */
  caPem: string;
  secret: string;
  token: string;
  /** Pids of the service processes, for measuring their CPU. */
  pids: Record<'policy' | 'vault' | 'ingress', number>;
  stop(): Promise<void>;
}

interface Proc {
  child: ChildProcess;
  output: () => string;
}

function startService(name: string, env: Record<string, string>): Proc {
  let output = '';
  const child = spawn(process.execPath, [join(root, `services/${name}/src/main.ts`)], {
    env: { PATH: process.env.PATH, NODE_ENV: process.env.NODE_ENV ?? 'production', TF_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => (output = (output + d).slice(-20_000)));
  child.stderr!.on('data', (d) => (output = (output + d).slice(-20_000)));
  return { child, output: () => output };
}

async function ready(name: string, port: number, p: Proc): Promise<void> {
  await waitFor(
    async () => {
      if (p.child.exitCode !== null) throw new Error(`${name} exited with ${p.child.exitCode}: ${p.output()}`);
      return (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null))?.ok;
    },
    { timeoutMs: 30_000, what: `${name} readiness` },
  );
}

/**
 * Starts the stack. `upstream` is where `api.openai.com` really goes (an HTTPS origin), with
 * `upstreamCaFile` the CA its certificate is issued by.
 */
export async function startFullStack(options: { upstream: string; upstreamCaFile: string; ingressEnv?: Record<string, string> }): Promise<FullStack> {
  const dir = mkdtempSync(join(tmpdir(), 'tf-full-'));
  const nats = await startNatsServer();
  const db = await createTestDatabase('ingress_full');
  const bus = await connectBus({ servers: nats.url, name: 'full-stack' });
  await bus.ensureStreams();
  await bus.ensureBuckets();
  const procs: Proc[] = [];
  const stop = async () => {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
    await Promise.all(
      procs.map(
        (p) =>
          new Promise<void>((r) => {
            if (p.child.exitCode !== null || p.child.signalCode !== null) return r();
            const t = setTimeout(() => p.child.kill('SIGKILL'), 8000);
            p.child.once('exit', () => {
              clearTimeout(t);
              r();
            });
          }),
      ),
    );
    await bus.close().catch(() => undefined);
    await db.drop().catch(() => undefined);
    await nats.dispose();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const base = { TF_NATS_URL: nats.url, TF_DATABASE_URL: db.url };
    const policyHealth = await freePort();
    const vaultHealth = await freePort();
    const policy = startService('policy', { ...base, TF_HEALTH_PORT: String(policyHealth), TF_INSTANCE_ID: 'policy-1' });
    procs.push(policy);
    const vault = startService('vault', { ...base, TF_HEALTH_PORT: String(vaultHealth), TF_INSTANCE_ID: 'vault-1', TF_VAULT_MASTER_KEY: randomBytes(32).toString('base64') });
    procs.push(vault);
    await Promise.all([ready('policy', policyHealth, policy), ready('vault', vaultHealth, vault)]);

    await bus.request(Commands.policyPublish, { gatewayId: FULL_GATEWAY, source: FULL_POLICY, fileName: 'full-path.yaml', publishedBy: 'bench' }, { timeoutMs: 10_000 });
    const connector: ConnectorEntry = {
      gatewayId: FULL_GATEWAY,
      connectorId: 'openai',
      kind: 'openai',
      secretName: 'openai-key',
      injection: { kind: 'bearer' },
      domains: [],
      options: {},
    };
    await (await bus.kv(Buckets.connectors)).put(`${FULL_GATEWAY}.openai`, connector);
    const secret = `sk-proj-${randomBytes(24).toString('base64url')}`;
    const pk = await bus.request<{ publicKey: string }>(Commands.vaultPublicKey, {}, { timeoutMs: 5000 });
    await bus.request(
      Commands.vaultSecretPut,
      { gatewayId: FULL_GATEWAY, name: 'openai-key', box: sealSecretValue(secret, pk.publicKey, { gatewayId: FULL_GATEWAY, name: 'openai-key' }), source: 'api', actor: 'bench', mode: 'set' },
      { timeoutMs: 10_000 },
    );
    const token = randomToken('tfr');
    const run: RunEntry = { runId: uuidv7(), agentId: 'bench-agent', agentName: 'Benchmark agent', gatewayId: FULL_GATEWAY, startedAt: new Date().toISOString() };
    await (await bus.kv(Buckets.runs)).put(sha256Hex(token), run);

    const ingressHealth = await freePort();
    const proxyPort = await freePort();
    writeFileSync(join(dir, 'upstream-ca.pem'), readFileSync(options.upstreamCaFile));
    const ingress = startService('ingress', {
      TF_NATS_URL: nats.url,
      TF_HEALTH_PORT: String(ingressHealth),
      TF_INSTANCE_ID: 'ingress-1',
      TF_INGRESS_PORT: String(proxyPort),
      TF_INGRESS_STATE_DIR: join(dir, 'ingress'),
      TF_INGRESS_UPSTREAM_OVERRIDES: `api.openai.com=${options.upstream}`,
      TF_INGRESS_UPSTREAM_CA_FILES: join(dir, 'upstream-ca.pem'),
      ...options.ingressEnv,
    });
    procs.push(ingress);
    await ready('ingress', ingressHealth, ingress);
    return {
      nats,
      db,
      bus,
      proxyUrl: `http://tf:${token}@127.0.0.1:${proxyPort}`,
      caPem: readFileSync(join(dir, 'ingress', 'ca.cert.pem'), 'utf8'),
      secret,
      token,
      pids: { policy: policy.child.pid!, vault: vault.child.pid!, ingress: ingress.child.pid! },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
