/**
 * The fault suite: real traffic through the whole stack (two replicas of every service, as
 * `tf up --replicas` runs them, on a PostgreSQL server of its own) while it breaks things, then
 * the books. Faults, one after another, each followed by a check that service resumed on its own:
 *
 * - SIGKILL of one of the two replicas of ingress, policy, vault, approval, projector and
 *   recorder (then restarted as a supervisor would): the survivor serves;
 * - NATS stopped and restarted: the gateway answers 503 problem+json meanwhile, never forwards;
 * - PostgreSQL stopped and restarted: the same;
 * - a policy replica paused (SIGSTOP) longer than the decision timeout, then resumed.
 *
 * The books, id by id (every attempt carries its own id): every answered request is in the audit
 * exactly once with the outcome the agent saw; nothing reached an upstream without a recorded
 * allow, or twice; no fact of an action is recorded twice; the audit hash chain verifies. The
 * per-fault report (sent, answered, audited...) is printed. Bounded: about four minutes here.
 */
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TF_BIN } from '../harness/tf-process.ts';
import { auditRows, checkBooks, formatReport, repeatedActionEvents, storedActionEvents, upstreamIds } from './books.ts';
import { startFaultStack, type FaultStack } from './fault-stack.ts';
import { served, startTraffic, type Attempt, type Traffic } from './traffic.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (line: string) => process.stdout.write(`faults: ${line}\n`);

let stack: FaultStack;
let traffic: Traffic;
let phase = 'baseline';
/** Phases in which NATS was down: a 503 then cannot be recorded anywhere. */
const natsDown = new Set<string>();
/** Phases in which an ingress replica died or froze with connections open. */
const ingressFault = new Set<string>();
const recoveries: Record<string, number> = {};

/** After a fault: probes both replicas until each serves a read (200) and a denied delete (403). */
async function recovered(name: string, timeoutMs = 90_000): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    const probes = await traffic.probe(`${name} (recovery probe)`);
    const byReplica = [0, 1].map((r) => probes.filter((a) => a.replica === r));
    if (byReplica.every((ps) => ps.length >= 2 && ps.every(served))) break;
    if (Date.now() - t0 > timeoutMs) throw new Error(`${name}: service did not resume within ${timeoutMs / 1000} s: ${JSON.stringify(probes.filter((a) => !served(a)).slice(0, 4))}`);
    await sleep(500);
  }
  recoveries[name] = (Date.now() - t0) / 1000;
}

const during = (name: string) => traffic.attempts.filter((a) => a.phase === name);

beforeAll(async () => {
  stack = await startFaultStack({ replicas: 2, log });
  traffic = startTraffic({ proxyUrls: stack.proxyUrls, caPem: stack.caPem, workers: 4, pauseMs: 20, timeoutMs: 15_000, phase: () => phase });
  await recovered('baseline');
}, 300_000);

afterAll(async () => {
  // The stack is disposed whatever happened before: its processes are detached and outlive us.
  await traffic?.stop().catch(() => undefined);
  await stack?.dispose();
}, 120_000);

describe('faults under traffic', () => {
  it('baseline: every request served', async () => {
    await sleep(3000);
    const b = during('baseline');
    expect(b.length).toBeGreaterThan(10);
    expect(b.filter((a) => !served(a))).toEqual([]);
  });

  for (const service of ['ingress', 'policy', 'vault', 'approval', 'projector', 'recorder']) {
    it(`SIGKILL of ${service}-1 of 2: the survivor serves, and service resumes`, async () => {
      const name = `SIGKILL ${service}-1`;
      if (service === 'ingress') ingressFault.add(name);
      phase = name;
      await sleep(1000);
      await stack.kill(`${service}-1`);
      const killedAt = traffic.attempts.length;
      await sleep(4000);
      const afterKill = traffic.attempts.slice(killedAt).filter((a) => a.phase === name);
      expect(afterKill.filter(served).length, `${name}: nothing was served by the surviving replica`).toBeGreaterThan(0);
      await stack.restart(`${service}-1`);
      await recovered(name);
      phase = `after ${name}`;
    }, 180_000);
  }

  it('NATS stopped: 503 problem+json, nothing forwarded; restarted: service resumes', async () => {
    const name = 'NATS stop/restart';
    phase = name;
    natsDown.add(name);
    await sleep(1000);
    await stack.stop('nats');
    const stoppedAt = performance.now();
    await sleep(5000);
    phase = `${name} (restarting)`;
    natsDown.add(phase);
    // The first probes go out while the services are still reconnecting to the new server.
    natsDown.add(`${name} (recovery probe)`);
    const whileDown = during(name).filter((a) => a.result === 'answered');
    await stack.restart('nats');
    await recovered(name);
    phase = `after ${name}`;
    expect(whileDown.length).toBeGreaterThan(0);
    expect(whileDown.filter((a) => a.status === 503).length).toBeGreaterThan(0);
    // Requests sent after the server was gone were never forwarded.
    expect(whileDown.filter((a) => a.startedAt > stoppedAt && a.status !== 503)).toEqual([]);
  }, 180_000);

  it('PostgreSQL stopped: allowed requests fail closed (503), denials still denied; restarted: service resumes', async () => {
    const name = 'PostgreSQL stop/restart';
    phase = name;
    await sleep(1000);
    await stack.pg.stop();
    const downFrom = traffic.attempts.length;
    await sleep(5000);
    const whileDown = traffic.attempts.slice(downFrom).filter((a) => a.phase === name && a.result === 'answered');
    await stack.pg.start();
    await recovered(name);
    phase = `after ${name}`;
    expect(whileDown.length).toBeGreaterThan(0);
    expect(whileDown.filter((a) => a.kind === 'read' && a.status === 200)).toEqual([]);
    expect(whileDown.filter((a) => a.kind === 'read' && a.status === 503).length).toBeGreaterThan(0);
  }, 180_000);

  it('a policy replica paused longer than the decision timeout: those decisions fail closed, then service resumes', async () => {
    const name = 'SIGSTOP policy-1 12 s';
    phase = name;
    await sleep(1000);
    stack.pause('policy-1');
    await sleep(12_000);
    stack.resume('policy-1');
    await recovered(name);
    phase = `after ${name}`;
    const p = during(name).filter((a) => a.result === 'answered');
    expect(p.filter(served).length).toBeGreaterThan(0);
  }, 180_000);

  it('the books: every answered request audited exactly once, nothing forwarded without a recorded allow, no fact recorded twice, chain intact', async () => {
    phase = 'steady';
    await sleep(3000);
    await traffic.stop();
    const attempts: Attempt[] = traffic.attempts;
    // Wait for the recorder and the projector to catch up with everything answered.
    let rows = await auditRows(stack.databaseUrl, stack.run.runId);
    const t0 = Date.now();
    let last = -1;
    let stableSince = Date.now();
    for (;;) {
      const complete = rows.filter((r) => r.outcome !== null).length;
      if (complete !== last) {
        last = complete;
        stableSince = Date.now();
      }
      const answered = new Set(attempts.filter((a) => a.result === 'answered').map((a) => a.id));
      const missing = [...answered].filter((id) => !rows.some((r) => r.tfreq === id && r.outcome !== null));
      const allowedMissing = missing.filter((id) => natsDown.has(attempts.find((a) => a.id === id)!.phase));
      if (missing.length === allowedMissing.length || Date.now() - stableSince > 20_000 || Date.now() - t0 > 120_000) break;
      await sleep(1000);
      rows = await auditRows(stack.databaseUrl, stack.run.runId);
    }
    const books = checkBooks({ attempts, rows, upstream: upstreamIds(stack.fakes), natsDownPhases: natsDown });
    const repeated = await repeatedActionEvents(stack.databaseUrl, stack.run.runId);
    const stored = await storedActionEvents(stack.databaseUrl, stack.run.runId);
    log(`report (requests sent by the agent, what it got, what the audit holds, what reached an upstream):\n${formatReport(books.report)}`);
    log(`recovery after each fault (s): ${JSON.stringify(recoveries)}`);
    log(`event store, this run: ${JSON.stringify(stored)}; read-model actions: ${rows.length}`);
    const broken = attempts.filter((a) => a.result === 'broken' && !ingressFault.has(a.phase));
    expect(broken.map((a) => `${a.phase}: ${a.error}`)).toEqual([]);
    expect(books.problems).toEqual([]);
    expect(repeated).toEqual([]);
    expect(stored.ActionRequested).toBe(rows.length);
    const verify = await new Promise<{ code: number | null; out: string }>((resolve) =>
      execFile(process.execPath, [TF_BIN, 'audit', 'verify', '--json'], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', TF_STATE_DIR: stack.stateDir, TF_DATABASE_URL: stack.databaseUrl }, timeout: 120_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, out: `${stdout}${stderr}` }),
      ),
    );
    log(`tf audit verify: ${verify.out.trim().split('\n').pop()}`);
    expect(verify.code, verify.out).toBe(0);
  }, 240_000);
});
