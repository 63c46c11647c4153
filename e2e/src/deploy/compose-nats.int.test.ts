/**
 * The NATS part of docker-compose.yml, run for real on loopback: the three nodes load the
 * checked-in infra/compose/nats/nats.conf with the routes and environment docker-compose.yml
 * gives them (host names mapped to loopback ports), `infra/compose/init.ts prepare` creates the
 * replicated stream and buckets, the control and policy services start on the cluster as their
 * own NATS users with the environment Compose gives them, and `init.ts bootstrap` sets up the
 * default gateway and policy through them. Routes and clients without credentials are refused.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Buckets, inboxPrefixFor, Streams } from '@tameflare/contracts';
import { connectBus, type Bus } from '@tameflare/messaging';
import { REPO_ROOT } from '@tameflare/stack';
import { createTestDatabase, freePort, natsServerBin, waitFor, type TestDatabase } from '@tameflare/testing';
import { isReady, serviceProcess, type ServiceProcess } from '../harness/service-process.ts';
import { environmentOf, readCompose, type ComposeFile } from './compose-file.ts';
import { composeScripts, runComposeSetup } from './infra-scripts.ts';
import { runMainScript } from './run-script.ts';

interface Node {
  name: string;
  client: number;
  route: number;
  monitor: number;
  proc?: ChildProcess;
  log: string;
}

let dir: string;
let compose: ComposeFile;
let env: Record<string, string>;
let db: TestDatabase;
const nodes: Node[] = [];
const procs: ServiceProcess[] = [];
let admin: Bus | undefined;

/** A service's Compose environment with the container host names replaced by this machine's ports. */
function mapped(e: Record<string, string>): Record<string, string> {
  const out = { ...e };
  for (const [k, v] of Object.entries(out)) {
    let x = v;
    for (const n of nodes) x = x.replaceAll(`nats://${n.name}:4222`, `nats://127.0.0.1:${n.client}`).replaceAll(`@${n.name}:6222`, `@127.0.0.1:${n.route}`);
    if (k === 'TF_DATABASE_URL') x = db.url;
    out[k] = x;
  }
  return out;
}

function startNode(n: Node): Promise<void> {
  const svc = compose.services[n.name]!;
  const e = mapped(environmentOf(svc));
  const args = svc.command!.map((a) => mapped({ a }).a!);
  // docker-compose.yml's command, plus this machine's ports instead of the container's fixed ones.
  // `--cluster` replaces the whole cluster listener, route credentials included (without them
  // nats-server would accept any route), so they are given again in its URL.
  n.proc = spawn(natsServerBin, [...args.map((a) => (a === '/etc/nats/nats.conf' ? join(REPO_ROOT, 'infra', 'compose', 'nats', 'nats.conf') : a)), '-a', '127.0.0.1', '-p', String(n.client), '-m', String(n.monitor), '--cluster', `nats://route:${e.TF_NATS_ROUTE_PASSWORD}@127.0.0.1:${n.route}`], {
    env: { PATH: process.env.PATH ?? '', ...e, TF_NATS_STORE_DIR: join(dir, n.name) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  n.proc.stdout?.on('data', (d) => (n.log += d));
  n.proc.stderr?.on('data', (d) => (n.log += d));
  return waitFor(() => healthy(n), { timeoutMs: 30_000, what: `${n.name} healthy: ${n.log.slice(-500)}` }).then(() => undefined);
}

/** The healthcheck docker-compose.yml runs: JetStream enabled and current. */
async function healthy(n: Node): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${n.monitor}/healthz?js-enabled-only=true`, { signal: AbortSignal.timeout(1000) })).ok;
  } catch {
    return false;
  }
}

/** The server ids a node has routes to (a duplicate route may exist briefly while nodes meet). */
async function routedServers(n: Node): Promise<Set<string>> {
  const z = (await (await fetch(`http://127.0.0.1:${n.monitor}/routez`)).json()) as { routes?: { remote_id: string }[] };
  return new Set((z.routes ?? []).map((r) => r.remote_id));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tf-compose-nats-'));
  env = (await runComposeSetup(join(dir, 'compose'))).env;
  compose = readCompose(env);
  db = await createTestDatabase('compose');
  for (const name of ['nats-1', 'nats-2', 'nats-3']) nodes.push({ name, client: await freePort(), route: await freePort(), monitor: await freePort(), log: '' });
  await Promise.all(nodes.map(startNode));
}, 90_000);

afterAll(async () => {
  await admin?.close().catch(() => undefined);
  for (const p of procs.reverse()) await p.dispose();
  await Promise.all(
    nodes.map(async (n) => {
      const p = n.proc;
      if (p && p.exitCode === null && p.signalCode === null) {
        const done = new Promise((r) => p.once('exit', r));
        p.kill('SIGTERM');
        await done;
      }
    }),
  );
  await db?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the docker-compose NATS cluster', () => {
  it('forms a JetStream cluster over authenticated routes', async () => {
    for (const n of nodes) await waitFor(async () => (await routedServers(n)).size === 2, { timeoutMs: 10_000, what: `${n.name} routed to the two others` });
    // A fourth server that knows the routes but not the route password never joins.
    const monitor = await freePort();
    const intruder = spawn(
      natsServerBin,
      ['-a', '127.0.0.1', '-p', String(await freePort()), '-m', String(monitor), '--cluster_name', 'tameflare', '--cluster', `nats://127.0.0.1:${await freePort()}`, '--routes', nodes.map((n) => `nats-route://127.0.0.1:${n.route}`).join(',')],
      { stdio: 'ignore' },
    );
    try {
      const id = await waitFor(async () => ((await (await fetch(`http://127.0.0.1:${monitor}/varz`)).json()) as { server_id: string }).server_id, { timeoutMs: 10_000, what: 'the intruder up' });
      await new Promise((r) => setTimeout(r, 2000));
      for (const n of nodes) {
        const routed = await routedServers(n);
        expect(routed.has(id), `${n.name} accepted a route without credentials`).toBe(false);
        expect(routed.size).toBe(2);
      }
    } finally {
      const done = new Promise((r) => intruder.once('exit', r));
      intruder.kill('SIGTERM');
      await done;
    }
  });

  it('refuses clients without credentials or with a wrong password', async () => {
    await expect(connect({ servers: `nats://127.0.0.1:${nodes[0]!.client}`, timeout: 3000 })).rejects.toThrow(/Authorization/i);
    await expect(connect({ servers: `nats://127.0.0.1:${nodes[1]!.client}`, user: 'ingress', pass: 'not-the-password', timeout: 3000 })).rejects.toThrow(/Authorization/i);
  });

  it('init.ts prepare replicates TF_EVENTS and the KV buckets three times', async () => {
    const job = mapped(environmentOf(compose.services['tameflare-init']!));
    const r = await runMainScript(composeScripts.init, ['prepare'], job, 120_000);
    expect(r.code, r.output).toBe(0);
    admin = await connectBus({ servers: nodes.map((n) => `nats://127.0.0.1:${n.client}`), name: 'compose-test', user: 'admin', pass: env.TF_NATS_PASSWORD_ADMIN!, inboxPrefix: inboxPrefixFor('admin') });
    const jsm = await jetstreamManager(admin.nc);
    expect((await jsm.streams.info(Streams.events.name)).config.num_replicas).toBe(3);
    for (const b of Object.values(Buckets)) expect((await jsm.streams.info(`KV_${b}`)).config.num_replicas, b).toBe(3);
  }, 150_000);

  it('control and policy start on it with their Compose environment, and init.ts bootstrap sets up the gateway and policy', async () => {
    for (const s of ['control', 'policy'] as const) {
      const port = await freePort();
      const p = serviceProcess(`${s}-compose`, s, { ...mapped(environmentOf(compose.services[s]!)), TF_HEALTH_PORT: String(port), OTEL_EXPORTER_OTLP_ENDPOINT: '' }, () => isReady(port));
      procs.push(p);
      await p.start();
    }
    const job = mapped(environmentOf(compose.services['tameflare-bootstrap']!));
    const r = await runMainScript(composeScripts.init, ['bootstrap'], job, 120_000);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(/policy version \d+ active on default/);
    expect((await (await admin!.kv(Buckets.gateways)).get('default'))?.value).toMatchObject({ gatewayId: 'default', mode: 'enforce' });
    expect(await (await admin!.kv(Buckets.policy)).get('default')).toBeTruthy();
    const again = await runMainScript(composeScripts.init, ['bootstrap'], job, 120_000);
    expect(again.code, again.output).toBe(0);
    expect(again.output).toContain('already has a policy');
  }, 150_000);
});
