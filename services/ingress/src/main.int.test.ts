import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Buckets } from '@tameflare/contracts';
import { sendWith } from '@tameflare/proxy/testing';
import { freePort, waitFor } from '@tameflare/testing';
import { ProxyAgent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './test/harness.ts';

const main = fileURLToPath(new URL('./main.ts', import.meta.url));

interface Proc {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function startProcess(env: Record<string, string>): Proc {
  let output = '';
  const child = spawn(process.execPath, [main], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, output: () => output, exited };
}

describe('the ingress process', () => {
  let h: Harness;
  let proc: Proc | undefined;
  const stateDir = mkdtempSync(join(tmpdir(), 'tf-ingress-b-'));
  afterAll(async () => {
    rmSync(stateDir, { recursive: true, force: true });
    if (proc && proc.child.exitCode === null) {
      proc.child.kill('SIGKILL');
      await proc.exited;
    }
    await h?.stop();
  });
  beforeAll(async () => {
    h = await startHarness();
  });

  it('exits 1 with one line naming the bad setting, starting nothing', async () => {
    const p = startProcess({ TF_NATS_URL: h.nats.url, TF_INGRESS_PORT: 'eighty', TF_INGRESS_HEARTBEAT_MS: 'soon' });
    expect(await p.exited).toBe(1);
    expect(p.output()).toMatch(/TF_INGRESS_PORT/);
    expect(p.output()).toMatch(/TF_INGRESS_HEARTBEAT_MS/);
  });

  it('runs as a second replica beside the first, serves agents, and shuts down gracefully on SIGTERM', async () => {
    const proxyPort = await freePort();
    const healthPort = await freePort();
    proc = startProcess({
      TF_NATS_URL: h.nats.url,
      TF_INSTANCE_ID: 'ingress-b',
      TF_HEALTH_PORT: String(healthPort),
      TF_INGRESS_PORT: String(proxyPort),
      TF_INGRESS_STATE_DIR: join(stateDir, 'state'),
      TF_INGRESS_UPSTREAM_OVERRIDES: `api.github.com=${h.github.origin},files.example.test=${h.files.origin}`,
      TF_LOG_LEVEL: 'warn',
    });
    await waitFor(async () => (await fetch(`http://127.0.0.1:${healthPort}/readyz`)).status === 200, { timeoutMs: 20_000, what: `readiness: ${proc.output()}` });
    const instances = await h.bus.kv(Buckets.instances);
    expect((await instances.get<{ ingressId: string }>('ingress-b'))?.value.ingressId).toBe('ingress-b');
    expect((await instances.get<{ ingressId: string }>('ingress-a'))?.value.ingressId).toBe('ingress-a');

    const proxyUrl = `http://tf:${h.token}@127.0.0.1:${proxyPort}`;
    const r = await sendWith('curl', { proxyUrl, caPem: h.caPem }, { method: 'GET', url: 'http://files.example.test/from-b' });
    expect(r.status).toBe(200);
    const requested = (await h.streamEvents()).filter((e) => e.type === 'ActionRequested').at(-1)!;
    expect(requested.data).toMatchObject({ ingressId: 'ingress-b', request: { path: '/from-b' } });
    expect(requested.metadata.source).toBe('ingress@ingress-b');

    // A stream in flight when SIGTERM arrives is finished, then the process exits 0.
    h.files.sse.finishedAt = null;
    const agent = new ProxyAgent({ uri: proxyUrl });
    const stream = await request('http://files.example.test/sse', { dispatcher: agent });
    const it = stream.body[Symbol.asyncIterator]();
    expect(Buffer.from((await it.next()).value as Buffer).toString()).toBe('data: first\n\n');
    proc.child.kill('SIGTERM');
    await new Promise((res) => setTimeout(res, 200));
    expect(proc.child.exitCode).toBeNull();
    h.files.sse.release!();
    let rest = '';
    for (let n = await it.next(); !n.done; n = await it.next()) rest += Buffer.from(n.value as Buffer).toString();
    expect(rest).toContain('[DONE]');
    await agent.close();
    expect(await proc.exited).toBe(0);
    expect(await instances.get('ingress-b')).toBeNull();
  }, 60_000);
});
