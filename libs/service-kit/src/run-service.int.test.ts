import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startNatsServer, waitFor, type TestNatsServer } from '@tameflare/testing';
import { isTameFlareError } from '@tameflare/contracts';
import { connectBus, MessagingErrorCode, type Bus } from '@tameflare/messaging';

const script = fileURLToPath(new URL('./test-fixtures/sample-service.ts', import.meta.url));
let nats: TestNatsServer;
let client: Bus;
const children: ChildProcess[] = [];

interface Sample {
  proc: ChildProcess;
  port: number;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

async function startSample(env: Record<string, string> = {}, waitReady = true): Promise<Sample> {
  const port = await freePort();
  const proc = spawn(process.execPath, [script], {
    env: { PATH: process.env.PATH, TF_NATS_URL: nats.url, TF_HEALTH_PORT: String(port), TF_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(proc);
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const s = { proc, port, stdout: () => out, stderr: () => err, exited };
  if (waitReady) await waitFor(() => readyz(port).then((r) => r.status === 200).catch(() => false), { timeoutMs: 15_000, what: 'sample service ready' });
  return s;
}

async function readyz(port: number): Promise<{ status: number; body: any }> {
  const r = await fetch(`http://127.0.0.1:${port}/readyz`);
  return { status: r.status, body: await r.json() };
}

beforeAll(async () => {
  nats = await startNatsServer({ jetstream: false });
  client = await connectBus({ servers: nats.url, name: 'test-client', requestTimeoutMs: 10_000 });
});
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});
afterAll(async () => {
  await client?.close();
  await nats?.dispose();
});

describe('runService', () => {
  it('answers a request in flight when SIGTERM arrives, refuses new work, and exits 0', async () => {
    const s = await startSample();
    const started: number[] = [];
    await client.subscribe('sample.started', (p: { n: number }) => void started.push(p.n));
    const reply = client.request<{ done: number; pid: number }>('tf.cmd.sample.work', { n: 1, ms: 1500 });
    await waitFor(() => started.includes(1));
    s.proc.kill('SIGTERM');
    await waitFor(async () => (await readyz(s.port)).status === 503);
    const during = await readyz(s.port);
    expect(during.body.checks.shutdown).toEqual({ ok: false, detail: 'shutting down' });
    const late = await client.request('tf.cmd.sample.work', { n: 2, ms: 0 }, { timeoutMs: 500 }).catch((e: unknown) => e);
    expect(isTameFlareError(late, MessagingErrorCode.NoResponders)).toBe(true);
    expect(await reply).toEqual({ done: 1, pid: s.proc.pid });
    expect(await s.exited).toBe(0);
    const logs = s.stdout().trim().split('\n').map((l) => JSON.parse(l));
    const messages = logs.map((l) => l.msg);
    expect(messages).toEqual(expect.arrayContaining(['sample started', 'shutting down', 'shutdown hook ran', 'stopped']));
    expect(messages.indexOf('shutdown hook ran')).toBeGreaterThan(messages.indexOf('shutting down'));
    expect(logs.every((l) => l.service === 'sample')).toBe(true);
  });

  it('reports readiness: its own flag, and the NATS connection', async () => {
    const s = await startSample();
    expect((await readyz(s.port)).body).toEqual({ status: 'ready', checks: { nats: { ok: true }, service: { ok: true }, shutdown: { ok: true } } });
    await client.request('tf.cmd.sample.ready', { ready: false });
    expect(await readyz(s.port)).toMatchObject({ status: 503, body: { checks: { service: { ok: false, detail: 'told so' } } } });
    await client.request('tf.cmd.sample.ready', { ready: true });
    expect((await readyz(s.port)).status).toBe(200);

    await nats.stop();
    await waitFor(async () => (await readyz(s.port)).status === 503);
    expect((await readyz(s.port)).body.checks.nats.ok).toBe(false);
    const alive = await fetch(`http://127.0.0.1:${s.port}/healthz`);
    expect(alive.status).toBe(200);
    await nats.start();
    await waitFor(async () => (await readyz(s.port)).status === 200, { timeoutMs: 15_000 });
    await waitFor(() => client.status().state === 'connected', { timeoutMs: 15_000 });
    s.proc.kill('SIGTERM');
    expect(await s.exited).toBe(0);
  });

  it('exits at once on a second signal', async () => {
    const s = await startSample();
    const started: number[] = [];
    await client.subscribe('sample.started', (p: { n: number }) => void started.push(p.n));
    const reply = client.request('tf.cmd.sample.work', { n: 3, ms: 20_000 }, { timeoutMs: 3000 }).catch((e: unknown) => e);
    await waitFor(() => started.includes(3));
    s.proc.kill('SIGTERM');
    await waitFor(() => s.stdout().includes('shutting down'));
    s.proc.kill('SIGTERM');
    expect(await s.exited).toBe(143);
    expect(s.stdout()).toContain('second signal');
    // The process died with the request unanswered: the caller gets a typed timeout, not a hang.
    expect(isTameFlareError(await reply, MessagingErrorCode.Timeout)).toBe(true);
  });

  it('gives up on in-flight work after the shutdown timeout and exits 2', async () => {
    const s = await startSample({ SAMPLE_SHUTDOWN_TIMEOUT_MS: '300' });
    const started: number[] = [];
    await client.subscribe('sample.started', (p: { n: number }) => void started.push(p.n));
    void client.request('tf.cmd.sample.work', { n: 4, ms: 20_000 }, { timeoutMs: 25_000 }).catch(() => undefined);
    await waitFor(() => started.includes(4));
    s.proc.kill('SIGTERM');
    expect(await s.exited).toBe(2);
    expect(s.stdout()).toContain('in-flight work did not finish in time');
  });

  it('refuses bad configuration with one message naming every bad variable, exit 1, nothing started', async () => {
    const s = await startSample({ TF_HEALTH_PORT: 'eighty', TF_NATS_URL: 'http://nats', TF_NATS_PASSWORD: 'hunter2-secret', TF_SAMPLE_START_DELAY_MS: 'later' }, false);
    expect(await s.exited).toBe(1);
    const err = s.stderr();
    expect(err).toContain('sample: invalid configuration');
    expect(err).toContain('TF_HEALTH_PORT: expected an integer from 0 to 65535, got "eighty"');
    expect(err).toContain('TF_NATS_URL: expected a NATS URL');
    expect(err).toContain('TF_SAMPLE_START_DELAY_MS: expected a duration');
    expect(err).not.toContain('hunter2');
    expect(s.stdout()).toBe('');
  });

  it('exits 2 with a logged reason when NATS is unreachable at start', async () => {
    const s = await startSample({ TF_NATS_URL: `nats://127.0.0.1:${await freePort()}` }, false);
    expect(await s.exited).toBe(2);
    const fatal = s.stdout().trim().split('\n').map((l) => JSON.parse(l)).find((l) => l.level === 'fatal');
    expect(fatal.msg).toBe('cannot connect to NATS');
    expect(fatal.err.code).toBe(MessagingErrorCode.Unavailable);
  });
});
