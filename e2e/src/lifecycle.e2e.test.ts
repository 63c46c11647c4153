/**
 * `tf up` from nothing (no state directory, no database) to ready, `tf status`, an idempotent
 * second `tf up`, and `tf down` leaving no process behind, all through the real CLI.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { dropDatabase, freePort } from '@tameflare/stack';
import { adminPgUrl } from '@tameflare/testing';
import { tf } from './harness/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'tf-e2e-lifecycle-'));
const stateDir = join(dir, 'state');
const db = new URL(adminPgUrl);
db.pathname = `/tf_e2e_up_${randomBytes(4).toString('hex')}`;
const databaseUrl = db.toString();

afterAll(async () => {
  await tf(['down'], { stateDir }).catch(() => undefined);
  await dropDatabase(databaseUrl).catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

/** Running: in the process table and not a zombie waiting for init to reap it. */
const alive = (pid: number) => {
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

/** Every process whose command line mentions `text`. */
function processesMentioning(text: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) found.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

interface Info {
  processes: { service: string; instanceId: string; pid: number }[];
  proxies: { url: string }[];
  alreadyRunning: boolean;
  graphqlUrl: string;
}

it('brings the stack up from nothing, reports it, and tf down leaves no process behind', async () => {
  const [nats, proxy, graphql] = [await freePort(), await freePort(), await freePort()];
  const started = Date.now();
  const up = await tf(['up', '--json', '--database-url', databaseUrl, '--nats-port', String(nats), '--proxy-port', String(proxy), '--graphql-port', String(graphql)], { stateDir });
  expect(up.code, up.stderr).toBe(0);
  console.log(`tf up from nothing to ready: ${Date.now() - started} ms`);
  const info = JSON.parse(up.stdout) as Info;
  expect(info.alreadyRunning).toBe(false);
  expect(info.processes.map((p) => p.service).sort()).toEqual(['approval', 'audit-api', 'control', 'ingress', 'nats', 'policy', 'projector', 'recorder', 'vault']);
  expect(info.processes.every((p) => alive(p.pid))).toBe(true);
  expect(info.proxies[0]!.url).toBe(`http://127.0.0.1:${proxy}`);
  expect(info.graphqlUrl).toBe(`http://127.0.0.1:${graphql}/graphql`);
  expect(up.stderr).toContain('tf up: starting nats-server');

  const status = await tf(['status', '--json'], { stateDir });
  expect(status.code).toBe(0);
  const s = JSON.parse(status.stdout) as { healthy: boolean; processes: { ready: boolean }[]; killSwitches: unknown[] };
  expect(s.healthy).toBe(true);
  expect(s.processes.every((p) => p.ready)).toBe(true);
  expect(s.killSwitches).toEqual([]);
  const human = await tf(['status'], { stateDir });
  expect(human.stdout).toMatch(/^ingress +ingress-1 +\d+ +ready +\d+/m);

  const again = await tf(['up', '--json'], { stateDir });
  expect(again.code).toBe(0);
  const second = JSON.parse(again.stdout) as Info;
  expect(second.alreadyRunning).toBe(true);
  expect(second.processes.map((p) => p.pid)).toEqual(info.processes.map((p) => p.pid));

  const down = await tf(['down', '--json'], { stateDir });
  expect(down.code, down.stderr).toBe(0);
  const stopped = JSON.parse(down.stdout) as { processes: { instanceId: string; outcome: string }[] };
  expect(stopped.processes).toHaveLength(9);
  expect(stopped.processes.every((p) => p.outcome === 'stopped')).toBe(true);
  expect(info.processes.filter((p) => alive(p.pid))).toEqual([]);
  expect(processesMentioning(stateDir)).toEqual([]);
  await new Promise<void>((resolve, reject) => {
    // The proxy port is free again.
    const srv = createServer().once('error', reject);
    srv.listen(proxy, '127.0.0.1', () => srv.close(() => resolve()));
  });

  const after = await tf(['status'], { stateDir });
  expect(after.code).toBe(1);
  expect(after.stdout).toContain('The stack is not running');
  const downAgain = await tf(['down'], { stateDir });
  expect(downAgain.code).toBe(1);
  expect(downAgain.stderr).toMatch(/^tf: no stack is running in .*\n  hint: start one with tf up\n$/);
}, 180_000);

it('refuses a port that is taken with one line, and leaves nothing running', async () => {
  const busy = createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
  const port = (busy.address() as { port: number }).port;
  try {
    const r = await tf(['up', '--database-url', databaseUrl, '--proxy-port', String(port)], { stateDir: join(dir, 'busy') });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^tf: port ${port} for ingress-1 proxy is in use\\n  hint: `));
    expect(processesMentioning(join(dir, 'busy'))).toEqual([]);
  } finally {
    busy.close();
  }
}, 60_000);
